namespace Disagg.Netback.Switch;

/// <summary>
/// xl's vif rate limit (rate=BYTES/s@INTERVAL), as Xen's netback applies it: the bucket holds
/// one interval's bytes and is refilled to that each interval. A frame that does not fit waits
/// for the refill — its vif's ring stalls, nothing is dropped — except a frame larger than a
/// whole interval's credit, which is let through on a full bucket so it cannot wedge the vif.
/// </summary>
public sealed class TokenBucket
{
    private long _credit;
    private long _nextRefillNs;

    public TokenBucket(long bytesPerInterval, long intervalNs, long nowNs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerInterval);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(intervalNs);
        BytesPerInterval = bytesPerInterval;
        IntervalNs = intervalNs;
        _credit = bytesPerInterval;
        _nextRefillNs = nowNs + intervalNs;
    }

    public long BytesPerInterval { get; }

    public long IntervalNs { get; }

    /// <summary>When the vif may try again after <see cref="TryConsume"/> said no.</summary>
    public long NextRefillNs => _nextRefillNs;

    public bool TryConsume(int bytes, long nowNs)
    {
        if (nowNs >= _nextRefillNs)
        {
            _credit = BytesPerInterval;
            // Refill on the interval grid, but never bank intervals the vif was idle for.
            var missed = (nowNs - _nextRefillNs) / IntervalNs;
            _nextRefillNs += (missed + 1) * IntervalNs;
        }

        if (bytes <= _credit || (_credit == BytesPerInterval && bytes > BytesPerInterval))
        {
            _credit = Math.Max(0, _credit - bytes);
            return true;
        }

        return false;
    }
}
