using Disagg.TestSupport.Netif;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>Real netback, real kernel, real xenstored; native frontends as the guests.</summary>
public sealed class SwitchingTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private NetbackRig _host = null!;

    public async Task InitializeAsync() => _host = await NetbackRig.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Two_frontends_on_one_bridge_resolve_each_other_and_exchange_echoes()
    {
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");

        a.Send(Packets.ArpRequest(a.Mac, "10.0.0.10", "10.0.0.11"));
        var reply = await a.ReceiveAsync(Packets.IsArpReply, Patience);
        Assert.NotNull(reply);
        Assert.Equal(b.Mac, reply![22..28]);

        for (ushort seq = 1; seq <= 20; seq++)
        {
            a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", seq));
            Assert.NotNull(await a.ReceiveAsync(f => Packets.IsEchoReply(f, seq), Patience));
        }

        var stats = await _host.VifStatusAsync(10, s => long.Parse(s["rx_frames"]) >= 21);
        Assert.Equal("connected", stats["state"]);
        Assert.Equal("0", stats["spoofed"]);
        Assert.True(long.Parse(stats["tx_frames"]) >= 21, string.Join(' ', stats));
    }

    [Fact]
    public async Task Frames_for_a_frontend_without_rx_buffers_wait_in_its_backlog_and_arrive_in_order_once_it_posts()
    {
        await using var a = await _host.AddFrontendAsync(20, "00:16:3e:00:00:14");
        await using var b = await _host.AddFrontendAsync(21, "00:16:3e:00:00:15");
        var macA = Frames.Mac("00:16:3e:00:00:14");
        var macB = Frames.Mac("00:16:3e:00:00:15");

        // b posted its 256 rx buffers when it connected and takes nothing until all are sent: the first 256
        // fill them, the next 64 (the backlog's size) wait, the last 10 are dropped.
        const int waiting = 64;
        const int total = NativeNetfront.RxBuffers + waiting + 10;
        for (var i = 0; i < total; i++)
        {
            var frame = Frames.Ethernet(macB, macA, 0x88B5, [.. BitConverter.GetBytes(i), .. new byte[50]]);
            var deadline = DateTime.UtcNow + Patience;
            while (!a.TrySend(frame))
            {
                a.Flush();
                Assert.True(DateTime.UtcNow < deadline, $"frame {i}: a's tx ring never drained");
                a.Wait(TimeSpan.FromMilliseconds(20));
            }

            a.Flush();
        }

        var stats = await _host.VifStatusAsync(21, s => long.Parse(s["rx_backlogged"]) + long.Parse(s["rx_no_buffer"]) >= waiting + 10);
        Assert.Equal(waiting.ToString(System.Globalization.CultureInfo.InvariantCulture), stats["rx_backlogged"]);
        Assert.Equal("10", stats["rx_no_buffer"]);

        var got = new List<int>();
        var until = DateTime.UtcNow + Patience;
        while (got.Count < NativeNetfront.RxBuffers + waiting && DateTime.UtcNow < until)
        {
            b.Receive(f => got.Add(BitConverter.ToInt32(f[14..18])));
            b.Wait(TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(Enumerable.Range(0, NativeNetfront.RxBuffers + waiting), got);
    }

    [Fact]
    public async Task An_unwritable_status_file_is_logged_and_switching_and_new_vifs_go_on()
    {
        // status.tmp as a directory: every status write fails (it writes the temp file, then renames).
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(_host.StateDirectory, "status")), Patience));
        Directory.CreateDirectory(Path.Combine(_host.StateDirectory, "status.tmp"));

        // The file is written on a change (an idle netback writes nothing): the new vifs are one.
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");
        Assert.True(_host.Netback.WaitForStdErr("cannot write the status file", Patience), "netback logs the failure");
        for (ushort seq = 1; seq <= 5; seq++)
        {
            a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", seq));
            Assert.NotNull(await a.ReceiveAsync(f => Packets.IsEchoReply(f, seq), Patience));
        }

        Directory.Delete(Path.Combine(_host.StateDirectory, "status.tmp"));
        a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", 6)); // a change after the fix: the next write succeeds
        Assert.NotNull(await a.ReceiveAsync(f => Packets.IsEchoReply(f, 6), Patience));
        var stats = await _host.VifStatusAsync(11, s => long.Parse(s["rx_frames"]) >= 5);
        Assert.Equal("connected", stats["state"]);
        Assert.False(_host.Netback.HasExited);
    }

    [Fact]
    public async Task Frontends_on_different_bridges_cannot_reach_each_other()
    {
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", "xenbr0", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", "xenbr0", ip: "10.0.0.11");
        var c = await _host.AddStationAsync(12, "00:16:3e:00:00:0c", "xenbr1", ip: "10.0.0.12");

        a.Send(Packets.ArpRequest(a.Mac, "10.0.0.10", "10.0.0.12")); // broadcast: floods xenbr0 only
        a.Send(Packets.Ping(a.Mac, "10.0.0.10", c.Mac, "10.0.0.12", 1)); // unicast to a MAC on the other bridge
        a.Send(Packets.ArpRequest(a.Mac, "10.0.0.10", "10.0.0.11")); // and a control: b does hear a
        Assert.NotNull(await a.ReceiveAsync(Packets.IsArpReply, Patience));
        Assert.NotNull(await b.ReceiveAsync(f => f.Length > 0, Patience));
        Assert.Null(await c.ReceiveAsync(f => true, TimeSpan.FromSeconds(1)));
        Assert.Equal(0, c.Frontend.RxFrames);
        Assert.Null(await a.ReceiveAsync(Packets.IsEchoReply, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_spoofing_frontends_frames_are_dropped_and_counted()
    {
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b");
        var forged = Frames.Mac("00:16:3e:00:00:99");
        for (ushort i = 0; i < 5; i++)
        {
            a.Send(Packets.Ping(forged, "10.0.0.99", b.Mac, "10.0.0.11", i));
        }

        a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", 100)); // then one honest frame
        var got = await b.ReceiveAsync(f => true, Patience);
        Assert.NotNull(got);
        Assert.Equal(a.Mac, got![6..12]); // the first thing b hears is the honest frame
        var stats = await _host.VifStatusAsync(10, s => s["spoofed"] == "5");
        Assert.Equal("1", stats["rx_frames"]);
        Assert.Equal(5, a.Frontend.TxDropped);
        Assert.Equal(1, b.Frontend.RxFrames);
    }

    [Fact]
    public async Task A_rate_limited_vif_is_held_to_its_rate()
    {
        // 20 000 bytes per 100 ms = 200 kB/s. 100 frames of 1000 bytes are 5 bucketfuls: the first is there at
        // once, the second comes at the next tick of the refill grid (any time within 100 ms), the other three
        // 100 ms apart each — so at least 0.3 s, whatever the phase.
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", rate: "20000,100000");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b");
        var frame = Frames.Ethernet(b.Mac, a.Mac, 0x88b5, new byte[986]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
        {
            a.Send(frame);
        }

        for (var i = 0; i < 100; i++)
        {
            Assert.NotNull(await b.ReceiveAsync(f => true, Patience));
        }

        Assert.True(clock.Elapsed.TotalSeconds is >= 0.29 and < 5, $"100 kB at 200 kB/s took {clock.Elapsed.TotalSeconds:F3} s");
    }

    [Fact]
    public async Task The_switching_thread_allocates_nothing_while_it_forwards()
    {
        var a = await _host.AddStationAsync(10, "00:16:3e:00:00:0a", ip: "10.0.0.10");
        var b = await _host.AddStationAsync(11, "00:16:3e:00:00:0b", ip: "10.0.0.11");
        async Task PingsAsync(ushort from, int count)
        {
            a.Send(Packets.ArpRequest(a.Mac, "10.0.0.10", "10.0.0.11")); // a flooded frame too
            for (var seq = from; seq < from + count; seq++)
            {
                a.Send(Packets.Ping(a.Mac, "10.0.0.10", b.Mac, "10.0.0.11", seq));
                Assert.NotNull(await a.ReceiveAsync(f => Packets.IsEchoReply(f, seq), Patience));
            }
        }

        await PingsAsync(1, 300); // warm: every path of a turn has run and been compiled
        await Task.Delay(1500);
        var before = _host.SwitchStatus();
        await PingsAsync(1000, 500);
        await Task.Delay(1500); // the status file is rewritten after a change, at most every 500 ms
        var after = _host.SwitchStatus();
        Assert.True(long.Parse(after["frames"]) - long.Parse(before["frames"]) >= 1000, string.Join(' ', after));
        Assert.Equal(before["allocated_bytes"], after["allocated_bytes"]);
    }
}
