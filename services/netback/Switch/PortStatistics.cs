namespace Disagg.Netback.Switch;

/// <summary>
/// Per-port counters as `disagg network-list` shows them. "Received" is what the port's guest
/// sent into the switch, "transmitted" what the switch gave it. Written by the switch's one
/// forwarding thread; read by anyone (torn reads of a counter are harmless for statistics).
/// </summary>
public sealed class PortStatistics
{
    public long RxFrames;
    public long RxBytes;
    public long TxFrames;
    public long TxBytes;

    /// <summary>Frames the guest sent that were not forwarded: no destination, rate limit refused, ring full downstream.</summary>
    public long Drops;

    /// <summary>Malformed frames: shorter than an Ethernet header, longer than the MTU.</summary>
    public long Errors;

    /// <summary>Frames whose source MAC was not the port's configured one.</summary>
    public long Spoofed;

    /// <summary>
    /// Requests refused with an error response before any switching: bad grant references, offsets past the
    /// page, flags asking for what we did not offer (scatter-gather, extra info), copies the kernel refused.
    /// </summary>
    public long RequestErrors;

    /// <summary>Frames for this port dropped because its guest had posted no receive buffer.</summary>
    public long RxNoBuffer;

    /// <summary>Frames that found no rx buffer posted and waited in the vif's backlog instead of being dropped.</summary>
    public long RxBacklogged;
}
