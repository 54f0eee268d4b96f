// bench/netback: packets/s at 64 B and Gbit/s at 1514 B between two native frontends through the real netback,
// next to Linux's bridge with two veth pairs moving UDP frames of the same sizes in the same run; netback's CPU per
// frame; and SIGKILL of netback to the first frame forwarded by its successor.
using System.Diagnostics;
using System.Globalization;
using Disagg.Bench;
using Disagg.Bench.Netback;
using Disagg.TestSupport.Netif;

if (args.Length > 0 && args[0] == "--udp-send")
{
    return LinuxBridgeLoad.Send(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), double.Parse(args[4], CultureInfo.InvariantCulture));
}

if (args.Length > 0 && args[0] == "--udp-recv")
{
    return LinuxBridgeLoad.Receive(int.Parse(args[1], CultureInfo.InvariantCulture), double.Parse(args[2], CultureInfo.InvariantCulture));
}

// This VM's speed drifts by tens of percent from second to second, so netback and Linux's bridge are measured in
// alternating slices (netback, bridge, netback, bridge, ...) and each figure sums its slices.
var quick = args.Contains("--quick");
var rounds = quick ? 2 : 5;
var slice = 1.0;
static string F(double v) => v.ToString(v >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture);
var report = new BenchReport("netback", valueFormat: "0.##");
using var linux = new LinuxBridgeLoad();
await using (var host = await NetbackRig.StartAsync())
{
    await using var a = await host.AddFrontendAsync(10, "00:16:3e:00:00:0a");
    await using var b = await host.AddFrontendAsync(11, "00:16:3e:00:00:0b");
    // b speaks once so the switch learns where it is: the load is unicast, not flooded.
    b.TrySend(Frames.Ethernet(Frames.Mac(a.Vif.Mac), Frames.Mac(b.Vif.Mac), 0x88b5, new byte[50]));
    b.Flush();
    Thread.Sleep(200);
    a.Receive(_ => { });
    foreach (var size in new[] { 64, 1514 })
    {
        NetbackLoad.Run(a, b, host.Netback.Pid, size, TimeSpan.FromSeconds(0.5)); // warm-up: the JIT's second tier
        await Task.Delay(700); // the status file is rewritten every 500 ms
        var (sw0, rx0) = (host.SwitchStatus(), await host.VifStatusAsync(11));
        long received = 0, sent = 0, txErrors = 0;
        double netbackSeconds = 0, cpuSeconds = 0, bridgeFrames = 0, bridgeSeconds = 0;
        for (var i = 0; i < rounds; i++)
        {
            var r = NetbackLoad.Run(a, b, host.Netback.Pid, size, TimeSpan.FromSeconds(slice));
            (received, sent, netbackSeconds, cpuSeconds, txErrors) = (received + r.Received, sent + r.Sent, netbackSeconds + r.Seconds, cpuSeconds + r.NetbackCpuSeconds, r.TxErrors);
            var floor = linux.Run(size, slice);
            (bridgeFrames, bridgeSeconds) = (bridgeFrames + floor.Frames, bridgeSeconds + floor.Seconds);
        }

        await Task.Delay(700);
        var (sw1, rx1) = (host.SwitchStatus(), await host.VifStatusAsync(11));
        long D(Dictionary<string, string> x, Dictionary<string, string> y, string k) => long.Parse(y[k], CultureInfo.InvariantCulture) - long.Parse(x[k], CultureInfo.InvariantCulture);
        var batches = D(sw0, sw1, "batches");
        var pps = received / netbackSeconds;
        var bridgePps = bridgeFrames / bridgeSeconds;
        // CPU per frame the switch handled (copied in, switched, delivered or dropped), not per frame received:
        // a starved receiver must not make netback look more expensive than it is.
        var cpuNs = cpuSeconds * 1e9 / Math.Max(1, D(sw0, sw1, "frames"));
        Console.WriteLine($"netback {size} B: sent {sent}, received {received} in {netbackSeconds:F2} s, netback cpu {cpuSeconds:F2} s, tx errors {txErrors}; " +
            $"switch: {batches} batches, {(double)D(sw0, sw1, "frames") / Math.Max(1, batches):F1} frames per batch, {D(sw0, sw1, "allocated_bytes")} bytes allocated; receiver: {D(rx0, rx1, "rx_no_buffer")} frames dropped for want of a posted rx buffer; " +
            $"linux bridge: {bridgeFrames:F0} datagrams in {bridgeSeconds:F2} s");
        if (size == 64)
        {
            report.Figure("linux-bridge-pps-64", Math.Round(bridgePps), "pkt/s");
            report.Figure("pps-64", Math.Round(pps), "pkt/s", pps / bridgePps, "linux-bridge-pps-64");
        }
        else
        {
            var floorGbps = bridgePps * size * 8 / 1e9;
            var gbps = pps * size * 8 / 1e9;
            report.Figure("linux-bridge-gbps-1514", floorGbps, "Gbit/s", note: $"{F(bridgePps)} pkt/s");
            report.Figure("gbps-1514", gbps, "Gbit/s", gbps / floorGbps, "linux-bridge-gbps-1514");
        }

        report.Figure($"cpu-per-frame-{size}", cpuNs >= 100 ? Math.Round(cpuNs) : cpuNs, "ns");
    }

    // Recovery: a frame every millisecond, stamped with its send time; SIGKILL; restart as the supervisor would;
    // the first frame b receives that was sent after the kill (frames in flight before it do not count).
    var stop = false;
    var clock = Stopwatch.StartNew();
    var killedAt = double.MaxValue;
    var firstAfter = double.NaN;
    var frame = Frames.Ethernet(Frames.Mac(b.Vif.Mac), Frames.Mac(a.Vif.Mac), 0x88b5, new byte[50]);
    var tx = new Thread(() =>
    {
        while (!Volatile.Read(ref stop))
        {
            a.ReapTx();
            BitConverter.TryWriteBytes(frame.AsSpan(14), clock.Elapsed.TotalMilliseconds);
            if (a.TrySend(frame))
            {
                a.Flush();
            }

            Thread.Sleep(1);
        }
    });
    var rx = new Thread(() =>
    {
        while (!Volatile.Read(ref stop))
        {
            if (b.Receive(f => { if (f.Length >= 22 && BitConverter.ToDouble(f[14..22]) > Volatile.Read(ref killedAt) && double.IsNaN(firstAfter)) { firstAfter = clock.Elapsed.TotalMilliseconds; } }) == 0)
            {
                b.Wait(TimeSpan.FromMilliseconds(5));
            }
        }
    });
    tx.Start();
    rx.Start();
    Thread.Sleep(500);
    Volatile.Write(ref killedAt, clock.Elapsed.TotalMilliseconds);
    host.Netback.Kill();
    host.Netback.Start();
    var deadline = Stopwatch.StartNew();
    while (double.IsNaN(firstAfter) && deadline.Elapsed.TotalSeconds < 60)
    {
        Thread.Sleep(5);
    }

    Volatile.Write(ref stop, true);
    tx.Join();
    rx.Join();
    var recovery = firstAfter - killedAt;
    report.Figure("recovery-kill-to-first-frame", recovery >= 100 ? Math.Round(recovery) : recovery, "ms");
}

return 0;
