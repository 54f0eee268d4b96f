// bench/netback: packets/s at 64 B and Gbit/s at 1514 B between two native frontends through the real netback,
// next to Linux's bridge with two veth pairs moving UDP frames of the same sizes in the same run; netback's CPU per
// frame; and SIGKILL of netback to the first frame forwarded by its successor.
using System.Diagnostics;
using System.Globalization;
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

var seconds = args.Contains("--quick") ? 2.0 : 5.0;
static string F(double v) => v.ToString(v >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture);
var figures = new Dictionary<int, (double Pps, double CpuNs)>();
await using (var host = await NetbackHost.StartAsync())
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
        var r = NetbackLoad.Run(a, b, host.Netback.Pid, size, TimeSpan.FromSeconds(seconds));
        var pps = r.Received / r.Seconds;
        figures[size] = (pps, r.NetbackCpuSeconds * 1e9 / Math.Max(1, r.Received));
        Console.WriteLine($"netback {size} B: sent {r.Sent}, received {r.Received} in {r.Seconds:F2} s, netback cpu {r.NetbackCpuSeconds:F2} s, tx errors {r.TxErrors}");
    }

    // Recovery: a frame every millisecond; SIGKILL; restart as the supervisor would; first frame b receives after.
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
            if (b.Receive(_ => { if (clock.Elapsed.TotalMilliseconds > Volatile.Read(ref killedAt) && double.IsNaN(firstAfter)) { firstAfter = clock.Elapsed.TotalMilliseconds; } }) == 0)
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

    using var linux = new LinuxBridgeLoad();
    foreach (var size in new[] { 64, 1514 })
    {
        var floor = linux.Run(size, seconds);
        var (pps, cpu) = figures[size];
        if (size == 64)
        {
            Console.WriteLine($"bench: netback/linux-bridge-pps-64 {F(floor)} pkt/s");
            Console.WriteLine($"bench: netback/pps-64 {F(pps)} pkt/s ratio {pps / floor:F2} vs linux-bridge-pps-64");
        }
        else
        {
            var floorGbps = floor * size * 8 / 1e9;
            var gbps = pps * size * 8 / 1e9;
            Console.WriteLine($"bench: netback/linux-bridge-gbps-1514 {F(floorGbps)} Gbit/s ({F(floor)} pkt/s)");
            Console.WriteLine($"bench: netback/gbps-1514 {F(gbps)} Gbit/s ratio {gbps / floorGbps:F2} vs linux-bridge-gbps-1514");
        }

        Console.WriteLine($"bench: netback/cpu-per-frame-{size} {F(cpu)} ns");
    }

    Console.WriteLine($"bench: netback/recovery-kill-to-first-frame {F(recovery)} ms");
}

return 0;
