using Disagg.Netback.Switch;

namespace Disagg.Netback.Tests;

public class BridgeTests
{
    private static readonly MacAddress A = MacAddress.Parse("00:16:3e:00:00:0a");
    private static readonly MacAddress B = MacAddress.Parse("00:16:3e:00:00:0b");
    private static readonly MacAddress C = MacAddress.Parse("00:16:3e:00:00:0c");
    private const long Second = 1_000_000_000;

    private readonly Bridge _bridge = new("br0");
    private readonly SwitchPort _a;
    private readonly SwitchPort _b;
    private readonly SwitchPort _c;
    private readonly SwitchPort _uplink;
    private readonly int[] _dest = new int[8];

    public BridgeTests()
    {
        _a = _bridge.AddVif("vif1.0", A);
        _b = _bridge.AddVif("vif2.0", B);
        _c = _bridge.AddVif("vif3.0", C);
        _uplink = _bridge.AddUplink("tap0");
    }

    private static byte[] Frame(MacAddress dst, MacAddress src, int payload = 50)
    {
        var f = new byte[Bridge.EthernetHeader + payload];
        dst.Write(f);
        src.Write(f.AsSpan(6));
        f[12] = 0x08; // IPv4
        return f;
    }

    private static void Expect(ForwardResult result, int[] ports, (ForwardResult Result, int[] Ports) actual)
    {
        Assert.Equal(result, actual.Result);
        Assert.Equal(ports, actual.Ports);
    }

    private (ForwardResult Result, int[] Ports) Send(SwitchPort from, byte[] frame, long now = 0)
    {
        var r = _bridge.Forward(from, frame, now, _dest, out var n);
        return (r, _dest[..n]);
    }

    [Fact]
    public void UnknownDestinationsFloodThenLearnedOnesGoToOnePort()
    {
        Expect(ForwardResult.Flooded, new[] { _b.Index, _c.Index, _uplink.Index }, Send(_a, Frame(B, A)));
        Expect(ForwardResult.Unicast, new[] { _a.Index }, Send(_b, Frame(A, B)));
        Expect(ForwardResult.Unicast, new[] { _b.Index }, Send(_a, Frame(B, A)));
    }

    [Fact]
    public void BroadcastAndMulticastFloodToEveryOtherPort()
    {
        Send(_b, Frame(A, B)); // B is learned; broadcast must flood regardless
        Expect(ForwardResult.Flooded, new[] { _a.Index, _c.Index, _uplink.Index }, Send(_b, Frame(MacAddress.Broadcast, B)));
        var multicast = MacAddress.Parse("01:00:5e:00:00:01");
        Expect(ForwardResult.Flooded, new[] { _a.Index, _b.Index, _uplink.Index }, Send(_c, Frame(multicast, C)));
    }

    [Fact]
    public void AFrameNeverGoesBackToItsSourcePort()
    {
        var other = MacAddress.Parse("02:00:00:00:00:99");
        Send(_uplink, Frame(MacAddress.Broadcast, other)); // learns 'other' behind the uplink
        Expect(ForwardResult.Filtered, Array.Empty<int>(), Send(_uplink, Frame(other, MacAddress.Parse("02:00:00:00:00:98"))));
        Expect(ForwardResult.Filtered, Array.Empty<int>(), Send(_a, Frame(A, A)));
        foreach (var p in new[] { _a, _b, _c, _uplink })
        {
            var (_, ports) = Send(p, Frame(MacAddress.Broadcast, p == _uplink ? other : p.AllowedSource!.Value));
            Assert.DoesNotContain(p.Index, ports);
        }
    }

    [Fact]
    public void SpoofedSourcesAreDroppedAndCounted()
    {
        Expect(ForwardResult.Spoofed, Array.Empty<int>(), Send(_a, Frame(B, C)));
        Expect(ForwardResult.Spoofed, Array.Empty<int>(), Send(_a, Frame(B, MacAddress.Broadcast)));
        Assert.Equal(2, _a.Statistics.Spoofed);
        Assert.Equal(0, _a.Statistics.RxFrames);
        Assert.Equal(ForwardResult.Flooded, _bridge.Forward(_b, Frame(C, B), 0, _dest, out _)); // C was not learned from the spoof
        // Even the uplink may not claim a group source address.
        Assert.Equal(ForwardResult.Spoofed, Send(_uplink, Frame(A, MacAddress.Broadcast)).Result);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(1500 + 14 + 4 + 1)]
    public void MalformedFramesAreErrors(int length)
    {
        var f = new byte[length];
        if (length >= 12)
        {
            B.Write(f);
            A.Write(f.AsSpan(6));
        }

        Assert.Equal(ForwardResult.Malformed, Send(_a, f).Result);
        Assert.Equal(1, _a.Statistics.Errors);
    }

    [Fact]
    public void LearnedEntriesAgeOutAndFloodAgain()
    {
        var bridge = new Bridge("br1", ageingNs: 10 * Second);
        var a = bridge.AddVif("a", A);
        var b = bridge.AddVif("b", B);
        bridge.AddVif("c", C);
        Span<int> dest = stackalloc int[4];
        bridge.Forward(b, Frame(A, B), 0, dest, out _);
        Assert.Equal(ForwardResult.Unicast, bridge.Forward(a, Frame(B, A), 5 * Second, dest, out _));
        Assert.Equal(ForwardResult.Flooded, bridge.Forward(a, Frame(B, A), 16 * Second, dest, out var n));
        Assert.Equal(2, n);
    }

    [Fact]
    public void AMacThatMovesIsRelearned()
    {
        var roaming = MacAddress.Parse("02:00:00:00:00:42");
        Send(_uplink, Frame(MacAddress.Broadcast, roaming));
        Expect(ForwardResult.Unicast, new[] { _uplink.Index }, Send(_a, Frame(roaming, A)));
        var bridge2Port = _bridge.AddUplink("tap1");
        Send(bridge2Port, Frame(MacAddress.Broadcast, roaming));
        Expect(ForwardResult.Unicast, new[] { bridge2Port.Index }, Send(_a, Frame(roaming, A)));
    }

    [Fact]
    public void ARemovedPortGetsNothingAndItsMacsFlood()
    {
        Send(_b, Frame(A, B));
        _bridge.RemovePort(_b);
        Expect(ForwardResult.Flooded, new[] { _c.Index, _uplink.Index }, Send(_a, Frame(B, A)));
    }

    [Fact]
    public void ASourceMacFloodCannotGrowTheTable()
    {
        var bridge = new Bridge("br2", macCapacity: 64);
        var uplink = bridge.AddUplink("tap");
        var a = bridge.AddVif("a", A);
        Span<int> dest = stackalloc int[4];
        bridge.Forward(a, Frame(MacAddress.Broadcast, A), 0, dest, out _);
        for (ulong i = 1; i < 100_000; i++)
        {
            bridge.Forward(uplink, Frame(A, new MacAddress(0x0200_0000_0000 + i)), 0, dest, out _);
        }

        Assert.Equal(64, bridge.LearnedMacs);
        // A, learned first, is still known: the flood did not evict live entries.
        Assert.Equal(ForwardResult.Unicast, bridge.Forward(uplink, Frame(A, new MacAddress(0x0200_0000_0001)), 0, dest, out _));
    }

    [Fact]
    public void StatisticsCountWhatCameInAndWhatWasDelivered()
    {
        Send(_a, Frame(B, A, 100));
        _bridge.RecordDelivered(_b.Index, 114);
        _bridge.RecordDropped(_c.Index);
        Assert.Equal((1, 114), (_a.Statistics.RxFrames, _a.Statistics.RxBytes));
        Assert.Equal((1, 114), (_b.Statistics.TxFrames, _b.Statistics.TxBytes));
        Assert.Equal(1, _c.Statistics.Drops);
    }

    [Fact]
    public void ForwardingAllocatesNothing()
    {
        var f1 = Frame(B, A);
        var f2 = Frame(A, B);
        var fb = Frame(MacAddress.Broadcast, C);
        Send(_a, f1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            _bridge.Forward(_a, f1, i, _dest, out _);
            _bridge.Forward(_b, f2, i, _dest, out _);
            _bridge.Forward(_c, fb, i, _dest, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void VifsMustHaveAUnicastMac()
    {
        Assert.Throws<ArgumentException>(() => _bridge.AddVif("x", MacAddress.Broadcast));
        Assert.Throws<ArgumentException>(() => _bridge.AddVif("x", new MacAddress(0)));
    }
}
