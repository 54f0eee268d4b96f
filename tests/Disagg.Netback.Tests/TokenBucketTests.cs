using Disagg.Netback.Switch;

namespace Disagg.Netback.Tests;

public class TokenBucketTests
{
    private const long Ms = 1_000_000;

    [Fact]
    public void ConsumesWithinCreditAndRefillsEachInterval()
    {
        var b = new TokenBucket(bytesPerInterval: 3000, intervalNs: 50 * Ms, nowNs: 0);
        Assert.True(b.TryConsume(1500, 0));
        Assert.True(b.TryConsume(1500, 1 * Ms));
        Assert.False(b.TryConsume(1, 2 * Ms));
        Assert.Equal(50 * Ms, b.NextRefillNs);
        Assert.True(b.TryConsume(3000, 50 * Ms));
        Assert.False(b.TryConsume(1, 99 * Ms));
    }

    [Fact]
    public void IdleIntervalsAreNotBanked()
    {
        var b = new TokenBucket(1000, 10 * Ms, 0);
        Assert.True(b.TryConsume(1000, 1000 * Ms));
        Assert.False(b.TryConsume(1, 1001 * Ms));
        Assert.Equal(1010 * Ms, b.NextRefillNs);
    }

    [Fact]
    public void AFrameLargerThanAWholeIntervalPassesOnAFullBucket()
    {
        var b = new TokenBucket(1000, 10 * Ms, 0);
        Assert.True(b.TryConsume(1500, 0));
        Assert.False(b.TryConsume(1500, 5 * Ms));
        Assert.True(b.TryConsume(1500, 10 * Ms));
    }

    [Fact]
    public void LongRunThroughputMatchesTheRate()
    {
        // 1 MB/s in 20 ms intervals, offered 1500-byte frames as fast as allowed for 10 s.
        var b = new TokenBucket(20_000, 20 * Ms, 0);
        long sent = 0;
        for (long t = 0; t < 10_000 * Ms; t += Ms / 10)
        {
            while (b.TryConsume(1500, t))
            {
                sent += 1500;
            }
        }

        Assert.InRange(sent, 9_500_000, 10_100_000);
    }
}
