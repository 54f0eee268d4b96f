namespace Disagg.Netback.Switch;

/// <summary>What the switch did with a frame a port sent.</summary>
public enum ForwardResult
{
    /// <summary>To the one port that owns the destination MAC.</summary>
    Unicast,
    /// <summary>Broadcast, multicast or unknown destination: to every other port of the bridge.</summary>
    Flooded,
    /// <summary>The destination is behind the port it came from: nowhere to send it.</summary>
    Filtered,
    /// <summary>Shorter than an Ethernet header or longer than the port's MTU allows.</summary>
    Malformed,
    /// <summary>A vif sent from a MAC other than its configured one.</summary>
    Spoofed,
}
