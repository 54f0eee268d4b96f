namespace Disagg.Netback.Switch;

/// <summary>
/// One port of a bridge: a guest's vif (which may only send from its configured MAC) or the
/// host uplink (which may send from any MAC).
/// </summary>
public sealed class SwitchPort
{
    internal SwitchPort(int index, string name, MacAddress? allowedSource, int mtu, TokenBucket? rateLimit)
    {
        Index = index;
        Name = name;
        AllowedSource = allowedSource;
        Mtu = mtu;
        RateLimit = rateLimit;
    }

    public int Index { get; }

    /// <summary>For example "vif5.0" (domain 5, device 0), or the TAP device's name.</summary>
    public string Name { get; }

    /// <summary>The only source MAC this port may send from; null for an uplink.</summary>
    public MacAddress? AllowedSource { get; }

    public int Mtu { get; }

    public TokenBucket? RateLimit { get; }

    public PortStatistics Statistics { get; } = new();

    internal bool Attached { get; set; } = true;
}
