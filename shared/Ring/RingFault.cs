namespace Disagg.Ring;

/// <summary>Why a ring stopped: the peer wrote indices no honest peer writes. Wire-free; for diagnostics and counters.</summary>
public enum RingFault
{
    None = 0,
    /// <summary>The producer index is more than a ring's worth ahead of what we consumed (or went backwards).</summary>
    ProducerTooFarAhead = 1,
    /// <summary>The peer answered more requests than were ever issued.</summary>
    MoreResponsesThanRequests = 2,
}
