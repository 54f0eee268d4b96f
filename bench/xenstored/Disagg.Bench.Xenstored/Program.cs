// bench/xenstored: reads, directory listings, writes and transaction commits per second over the socket
// with 1 and N clients, next to an echo floor over the same kind of socket in the same run; the same
// through Debian's libxenstore (libxs-bench, one client); watch-fire latency; restart time (SIGKILL to
// serving again) with a 100k-node store.
//   Disagg.Bench.Xenstored [--clients N] [--seconds S] [--nodes N] [--libxs PATH]
using System.Diagnostics;
using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Bench;
using Disagg.Bench.Xenstored;

var clients = Arg("--clients", 4);
var seconds = Arg("--seconds", 2);
var nodes = Arg("--nodes", 100_000);
var libxs = ArgText("--libxs");
var dir = Path.Combine(Path.GetTempPath(), "xs-bench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    using var xs = new XenstoredUnderTest(dir);
    xs.Start();
    using (var setup = new WireClient(xs.Socket))
    {
        for (var c = 0; c < clients; c++)
        {
            setup.Call(XsMessageType.Write, 0, $"/bench/c{c}/key", "0123456789abcdef", nulAfterSecond: false);
        }
    }

    using (var floor = new EchoFloor(Path.Combine(dir, "echo")))
    {
        var echo = Rate(floor.Path, clients, seconds, (w, c, i) => w.Build(XsMessageType.Read, 0, $"/bench/c{c}/key", null, false));
        Print($"echo-floor-{clients}-clients", echo, "ops/s");
        var reads = Rate(xs.Socket, clients, seconds, (w, c, i) => w.Build(XsMessageType.Read, 0, $"/bench/c{c}/key", null, false));
        Print($"reads-{clients}-clients", reads, "ops/s", reads / echo, "echo-floor");
        var listings = Rate(xs.Socket, clients, seconds, (w, c, i) => w.Build(XsMessageType.Directory, 0, "/bench", null, false));
        Print($"directory-{clients}-clients", listings, "ops/s", listings / echo, "echo-floor");
        var echo1 = Rate(floor.Path, 1, seconds, (w, c, i) => w.Build(XsMessageType.Read, 0, "/bench/c0/key", null, false));
        Print("echo-floor-1-client", echo1, "ops/s");
        var reads1 = Rate(xs.Socket, 1, seconds, (w, c, i) => w.Build(XsMessageType.Read, 0, "/bench/c0/key", null, false));
        Print("reads-1-client", reads1, "ops/s", reads1 / echo1, "echo-floor-1-client");
        var listings1 = Rate(xs.Socket, 1, seconds, (w, c, i) => w.Build(XsMessageType.Directory, 0, "/bench", null, false));
        Print("directory-1-client", listings1, "ops/s", listings1 / echo1, "echo-floor-1-client");
        var empty = EmptyTransactionRate(xs.Socket, seconds);
        Print("empty-tx-1-client", empty, "tx/s", empty * 2 / echo1, "echo-floor-1-client (2 round trips each)");
        LibXenstore(libxs, xs.Socket, seconds, echo1);
        var writes = Rate(xs.Socket, clients, seconds, (w, c, i) => w.Build(XsMessageType.Write, 0, $"/bench/c{c}/key", i.ToString(CultureInfo.InvariantCulture), false));
        Print($"writes-{clients}-clients", writes, "ops/s", writes / echo, "echo-floor");
        var oneWriter = Rate(xs.Socket, 1, seconds, (w, c, i) => w.Build(XsMessageType.Write, 0, "/bench/c0/key", i.ToString(CultureInfo.InvariantCulture), false));
        var sync = SyncFloor(Path.Combine(dir, "sync-floor"), seconds);
        Print("append-fsync-floor", sync, "ops/s");
        Print("writes-1-client", oneWriter, "ops/s", oneWriter / sync, "append-fsync-floor");
        Print("writes-1-client-vs-echo", oneWriter, "ops/s", oneWriter / echo1, "echo-floor-1-client (replies wait for the journal's write, not its fdatasync)");
        Print($"writes-{clients}-clients-vs-sync", writes, "ops/s", writes / sync, "append-fsync-floor (group commit)");
        var commits = TransactionRate(xs.Socket, clients, seconds);
        Print($"tx-commits-{clients}-clients", commits, "commits/s", commits * 3 / echo, "echo-floor (3 round trips each)");
    }

    WatchLatency(xs.Socket, 2000);
    Restart(xs, nodes);
}
finally
{
    Directory.Delete(dir, recursive: true);
}

return 0;

static double Rate(string socket, int clients, int seconds, Func<WireClient, int, int, int> build)
{
    var counts = new long[clients];
    var stop = false;
    var threads = Enumerable.Range(0, clients).Select(c => new Thread(() =>
    {
        using var w = new WireClient(socket);
        for (var i = 0; i < 200; i++)
        {
            w.Roundtrip(build(w, c, i)); // warm-up
        }

        long n = 0;
        while (!Volatile.Read(ref stop))
        {
            var t = w.Roundtrip(build(w, c, (int)n));
            if (t == XsMessageType.Error)
            {
                throw new InvalidOperationException("bench request failed");
            }

            n++;
        }

        counts[c] = n;
    })).ToArray();
    foreach (var t in threads)
    {
        t.Start();
    }

    Thread.Sleep(300);
    var clock = Stopwatch.StartNew();
    Thread.Sleep(seconds * 1000);
    Volatile.Write(ref stop, true);
    var elapsed = clock.Elapsed.TotalSeconds + 0.3;
    foreach (var t in threads)
    {
        t.Join();
    }

    return counts.Sum() / elapsed;
}

// The durability floor: a 64-byte append and an fsync, the least a durable write can cost on this disk.
static double SyncFloor(string path, int seconds)
{
    using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
    var record = new byte[64];
    var clock = Stopwatch.StartNew();
    long n = 0;
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        file.Write(record);
        file.Flush(flushToDisk: true);
        n++;
    }

    return n / clock.Elapsed.TotalSeconds;
}

static double TransactionRate(string socket, int clients, int seconds)
{
    var counts = new long[clients];
    var conflicts = new long[clients];
    var stop = false;
    var threads = Enumerable.Range(0, clients).Select(c => new Thread(() =>
    {
        using var w = new WireClient(socket);
        while (!Volatile.Read(ref stop))
        {
            var tx = w.StartTransaction();
            w.Call(XsMessageType.Write, tx, $"/bench/c{c}/key", counts[c].ToString(CultureInfo.InvariantCulture), nulAfterSecond: false);
            if (w.Call(XsMessageType.TransactionEnd, tx, "T") == XsMessageType.TransactionEnd)
            {
                counts[c]++;
            }
            else
            {
                conflicts[c]++;
            }
        }
    })).ToArray();
    var clock = Stopwatch.StartNew();
    foreach (var t in threads)
    {
        t.Start();
    }

    Thread.Sleep(seconds * 1000);
    Volatile.Write(ref stop, true);
    foreach (var t in threads)
    {
        t.Join();
    }

    if (conflicts.Sum() > 0)
    {
        Console.WriteLine($"# {conflicts.Sum()} commits got EAGAIN (each client has its own key: none expected)");
    }

    return counts.Sum() / clock.Elapsed.TotalSeconds;
}

static double EmptyTransactionRate(string socket, int seconds)
{
    using var w = new WireClient(socket);
    var clock = Stopwatch.StartNew();
    long n = 0;
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        var tx = w.StartTransaction();
        if (w.Call(XsMessageType.TransactionEnd, tx, "T") != XsMessageType.TransactionEnd)
        {
            throw new InvalidOperationException("an empty transaction did not commit");
        }

        n++;
    }

    return n / clock.Elapsed.TotalSeconds;
}

// Debian's libxenstore as the client (bench/xenstored/libxs-bench.c): what Xen's own tools see.
static void LibXenstore(string? program, string socket, int seconds, double echo1)
{
    if (program is null || !File.Exists(program))
    {
        Console.WriteLine("# libxs-bench not built (needs libxen-dev: make deps): libxenstore figures skipped");
        return;
    }

    var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, UseShellExecute = false };
    psi.ArgumentList.Add(seconds.ToString(CultureInfo.InvariantCulture));
    psi.Environment["XENSTORED_PATH"] = socket;
    using var p = Process.Start(psi)!;
    while (p.StandardOutput.ReadLine() is { } line)
    {
        // "NAME OPS_PER_SECOND MEAN_US"
        var f = line.Split(' ');
        var rate = double.Parse(f[1], CultureInfo.InvariantCulture);
        var trips = f[0] switch { "empty-transaction" => 2, "rmw-transaction" => 4, _ => 1 };
        Print($"libxenstore-{f[0]}-1-client", rate, "ops/s", rate * trips / echo1, $"echo-floor-1-client ({trips} round trips each; mean {f[2]} us)");
    }

    p.WaitForExit();
    if (p.ExitCode != 0)
    {
        throw new InvalidOperationException("libxs-bench failed");
    }
}

static void WatchLatency(string socket, int samples)
{
    using var watcher = new WireClient(socket);
    using var writer = new WireClient(socket);
    watcher.Call(XsMessageType.Watch, 0, "/lat", "t");
    watcher.Receive(); // the registration event
    var latencies = new double[samples];
    for (var i = 0; i < samples; i++)
    {
        var len = writer.Build(XsMessageType.Write, 0, "/lat/x", i.ToString(CultureInfo.InvariantCulture), false);
        var start = Stopwatch.GetTimestamp();
        writer.SendOnly(len);
        while (watcher.Receive() != XsMessageType.WatchEvent)
        {
        }

        latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        writer.Receive(); // the write's reply
    }

    Array.Sort(latencies);
    Print("watch-fire-latency-p50", latencies[samples / 2], "us");
    Print("watch-fire-latency-p99", latencies[samples * 99 / 100], "us");
}

static void Restart(XenstoredUnderTest xs, int nodes)
{
    using (var w = new WireClient(xs.Socket))
    {
        // 100 pipelined writes per transaction: one journal record per commit keeps the fill quick.
        for (var i = 0; i < nodes;)
        {
            var tx = w.StartTransaction();
            var sent = 0;
            for (; sent < 100 && i < nodes; sent++, i++)
            {
                w.SendOnly(w.Build(XsMessageType.Write, tx, $"/big/d{i / 1000}/n{i}", "value-" + i.ToString(CultureInfo.InvariantCulture), false));
            }

            for (; sent > 0; sent--)
            {
                w.Receive();
            }

            w.Call(XsMessageType.TransactionEnd, tx, "T");
        }
    }

    xs.Kill();
    var clock = Stopwatch.StartNew();
    xs.Start();
    using (var w = new WireClient(xs.Socket))
    {
        if (w.Call(XsMessageType.Read, 0, $"/big/d{(nodes - 1) / 1000}/n{nodes - 1}") != XsMessageType.Read)
        {
            throw new InvalidOperationException("the last node is missing after the restart");
        }
    }

    Print($"restart-{nodes / 1000}k-nodes", clock.Elapsed.TotalMilliseconds, "ms");
}

static void Print(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("xenstored", "0.#", "0.###").Figure(figure, value, unit, ratio, versus);

string? ArgText(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
