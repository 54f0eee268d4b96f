using Disagg.Toolstack.Fault.Workload;

namespace Disagg.Fault.Tests;

/// <summary>
/// What a fault run reads from a pvos ping's console: lost seqs become loss windows, and a reply held in a ring
/// while a backend restarted (late, not lost) is kept with its round trip, the outage that guest saw.
/// </summary>
public sealed class PingWatchTests
{
    private static string Reply(int seq, string ms) => $"64 bytes from 10.0.0.2: icmp_seq={seq} time={ms} ms";

    [Fact]
    public void LostSeqsAreALossWindowAndHeldRepliesAreKeptWithTheirRoundTrip()
    {
        var watch = new PingWatch("fault-net-a", 100);
        watch.Feed([Reply(1, "0.734"), Reply(2, "1.100"), Reply(3, "0.900")], 300);
        watch.Feed([Reply(6, "1.000")], 900); // 4 and 5 never came back
        watch.Feed([Reply(7, "87.250"), Reply(8, "2.000"), "ping: icmp_seq=9 not sent: -11"], 1200); // 7 was held 87 ms

        var s = watch.Summary(1300);
        Assert.Equal(6, s.Received);
        Assert.Equal(2, s.Lost);
        var window = Assert.Single(s.Windows);
        Assert.Equal((300L, 900L, 2L), (window.StartMs, window.EndMs, window.Lost));
        Assert.Equal(1, s.MedianRttMs);
        Assert.Equal(87, s.MaxRttMs);
        var slow = Assert.Single(s.Slow!);
        Assert.Equal((1200L, 7L, 87L), (slow.SeenMs, slow.Seq, slow.RttMs));
    }

    [Fact]
    public void RepliesWithoutARoundTripStillCountAndADuplicateIsNotANewReply()
    {
        var watch = new PingWatch("fault-net-b", 100);
        watch.Feed(["64 bytes from 10.0.0.1: icmp_seq=1 ", "64 bytes from 10.0.0.1: icmp_seq=2 time=bad ms", Reply(2, "500.0")], 200);

        var s = watch.Summary(200);
        Assert.Equal(2, s.Received);
        Assert.Equal(0, s.MaxRttMs);
        Assert.Empty(s.Slow!);
    }
}
