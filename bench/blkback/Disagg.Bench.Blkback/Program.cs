using System.Diagnostics;
using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Bench;
using Disagg.Blkfront.Native;
using Microsoft.Win32.SafeHandles;

// bench/blkback: the same I/O patterns through blkback (native frontend -> ring -> grant copy -> pread/pwrite in
// disagg-blkback) and directly (pread/pwrite from this process, one at a time) on the same 64 MiB file.
// This VM's speed drifts by tens of percent from second to second, so the two are measured in alternating
// slices (direct, ring, direct, ring, ...) and each figure sums its slices: both see the same conditions.
var quick = args.Contains("--quick");
var rounds = quick ? 3 : 8;
var slice = quick ? 0.5 : 1.0;
// --only NAME runs one pattern; --ring-only skips the direct slices (for profiling the ring path alone).
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
var ringOnly = args.Contains("--ring-only");
// --depth N: random requests kept in flight on the one-page ring (default 32, all it holds).
var depth = int.Parse(args.SkipWhile(a => a != "--depth").Skip(1).FirstOrDefault() ?? "32", CultureInfo.InvariantCulture);
const long DiskBytes = 64L << 20;
const int Blocks = (int)(DiskBytes / 4096);

// blkback holds flock(LOCK_EX) on its images (one writer per host); the direct side opens the same file
// without taking part in that protocol.
AppContext.SetSwitch("System.IO.DisableFileLocking", true);

await using var rig = await BlkbackRig.StartAsync(pcpus: 1);
var image = rig.File("bench.raw");
using (var f = new FileStream(image, FileMode.CreateNew))
{
    var chunk = new byte[1 << 20];
    Random.Shared.NextBytes(chunk);
    for (var i = 0; i < DiskBytes / chunk.Length; i++)
    {
        f.Write(chunk);
    }
}

var front = await rig.AttachAsync(new BlkfrontDisk(image), pages: 32 * 11);
using var direct = File.OpenHandle(image, FileMode.Open, FileAccess.ReadWrite);

// A second frontend with a four-page ring (ring-page-order 2: 128 requests in flight), on its own copy of the
// image (one writer per image), with its own direct floor on that copy.
var image4 = rig.File("bench-ring4.raw");
File.Copy(image, image4);
var front4 = await rig.AttachAsync(new BlkfrontDisk(image4), pages: 128, ringPageOrder: 2);
using var direct4 = File.OpenHandle(image4, FileMode.Open, FileAccess.ReadWrite);
var patterns = new (string Name, Func<double, Rate> Direct, Func<double, Rate> Ring, double UnitBytes, string Unit)[]
{
    ("randread-4k", t => Direct(direct, write: false, t), t => Ring(front, BlkifOperation.Read, t, depth: depth, pagesPerRequest: 1, sequential: false), 0, "IOPS"),
    ("randwrite-4k", t => Direct(direct, write: true, t), t => Ring(front, BlkifOperation.Write, t, depth: depth, pagesPerRequest: 1, sequential: false), 0, "IOPS"),
    ("randread-4k-ring4p", t => Direct(direct4, write: false, t), t => Ring(front4, BlkifOperation.Read, t, depth: 128, pagesPerRequest: 1, sequential: false), 0, "IOPS"),
    ("randwrite-4k-ring4p", t => Direct(direct4, write: true, t), t => Ring(front4, BlkifOperation.Write, t, depth: 128, pagesPerRequest: 1, sequential: false), 0, "IOPS"),
    ("seqread-44k", t => DirectSequential(direct, t), t => Ring(front, BlkifOperation.Read, t, depth: 32, pagesPerRequest: 11, sequential: true), 11 * 4096, "MB/s"),
};

foreach (var p in patterns.Where(p => only is null || p.Name == only))
{
    p.Ring(0.5); // warm-up: the JIT's second tier compiles blkback's loop during the first requests
    Rate d = default, r = default;
    for (var i = 0; i < rounds; i++)
    {
        d += ringOnly ? new Rate(1, 1) : p.Direct(slice);
        r += p.Ring(slice);
    }

    var (dv, rv) = p.UnitBytes > 0 ? (d.PerSecond * p.UnitBytes / 1e6, r.PerSecond * p.UnitBytes / 1e6) : (d.PerSecond, r.PerSecond);
    if (ringOnly)
    {
        Report(p.Name, rv, p.Unit);
        continue;
    }

    Report($"{p.Name}-direct", dv, p.Unit);
    Report(p.Name, rv, p.Unit, rv / dv, $"{p.Name}-direct");
}

var recoveries = new List<double>();
for (var i = 0; i < (only is null ? (quick ? 2 : 5) : 0); i++)
{
    recoveries.Add(await RecoveryAsync(rig, front));
}

recoveries.Sort();
if (recoveries.Count > 0)
{
    Report("recovery-sigkill-to-first-response", recoveries[recoveries.Count / 2], "ms");
}
return 0;

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("blkback").Figure(figure, value, unit, ratio, versus);

// One process, one request at a time, pread/pwrite of 4 KiB at random 4 KiB offsets (page cache, as blkback's).
static Rate Direct(Microsoft.Win32.SafeHandles.SafeFileHandle handle, bool write, double seconds)
{
    var buffer = new byte[4096];
    var random = new Random(1);
    long n = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        for (var i = 0; i < 256; i++, n++)
        {
            var offset = random.Next(Blocks) * 4096L;
            if (write)
            {
                RandomAccess.Write(handle, buffer, offset);
            }
            else
            {
                RandomAccess.Read(handle, buffer, offset);
            }
        }
    }

    return new Rate(n, clock.Elapsed.TotalSeconds);
}

// 44 KiB preads in file order, wrapping at the end (the request size of an 11-segment blkif request).
static Rate DirectSequential(Microsoft.Win32.SafeHandles.SafeFileHandle handle, double seconds)
{
    var buffer = new byte[11 * 4096];
    long n = 0;
    long offset = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        RandomAccess.Read(handle, buffer, offset);
        n++;
        offset = offset + buffer.Length >= DiskBytes ? 0 : offset + buffer.Length;
    }

    return new Rate(n, clock.Elapsed.TotalSeconds);
}

// Keeps `depth` requests in flight on the ring for `seconds`, then drains.
static Rate Ring(NativeBlkfront front, BlkifOperation op, double seconds, int depth, int pagesPerRequest, bool sequential)
{
    var random = new Random(2);
    var freeSlots = new Stack<int>(Enumerable.Range(0, depth));
    var slotOf = new int[depth * 4];
    long done = 0;
    ulong id = 0;
    var outstanding = 0;
    long nextSector = 0;
    var segments = new (int, int, int)[pagesPerRequest];
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds || outstanding > 0)
    {
        while (clock.Elapsed.TotalSeconds < seconds && freeSlots.Count > 0 && front.Ring.FreeRequests > 0)
        {
            var slot = freeSlots.Pop();
            for (var p = 0; p < pagesPerRequest; p++)
            {
                segments[p] = ((slot * pagesPerRequest) + p, 0, 7);
            }

            long sector;
            if (sequential)
            {
                sector = nextSector;
                nextSector = nextSector + (pagesPerRequest * 8) + (pagesPerRequest * 8) > DiskBytes / 512 ? 0 : nextSector + (pagesPerRequest * 8);
            }
            else
            {
                sector = random.Next(Blocks) * 8L;
            }

            front.Ring.NextRequest() = NativeBlkfront.Request(op, id, sector, segments);
            slotOf[id % (ulong)slotOf.Length] = slot;
            id++;
            outstanding++;
        }

        front.Push();
        var any = false;
        while (front.Ring.TryTakeResponse(out var rsp))
        {
            if (rsp.Status != BlkifResponse.StatusOkay)
            {
                throw new InvalidOperationException($"request {rsp.Id}: status {rsp.Status}");
            }

            freeSlots.Push(slotOf[rsp.Id % (ulong)slotOf.Length]);
            outstanding--;
            done++;
            any = true;
        }

        if (!any)
        {
            front.WaitForResponses(TimeSpan.FromMilliseconds(100));
        }
    }

    return new Rate(done, clock.Elapsed.TotalSeconds);
}

// SIGKILL with reads in flight, the supervisor's restart (here: at once), the frontend's reconnect, until the first response.
static async Task<double> RecoveryAsync(BlkbackRig rig, NativeBlkfront front)
{
    var shadow = new List<BlkifRequest>();
    for (var i = 0; i < 8; i++)
    {
        shadow.Add(NativeBlkfront.Request(BlkifOperation.Read, (ulong)(1_000_000 + i), i * 8L, (i, 0, 7)));
        front.Ring.NextRequest() = shadow[i];
    }

    rig.Blkback.Kill();
    var clock = Stopwatch.StartNew();
    front.Push();
    await rig.Blkback.StartAsync();
    await front.ReconnectAsync(shadow, TimeSpan.FromSeconds(60)); // §6: InitWait, re-issue from the shadow
    front.Push();
    var answered = 0;
    double first = 0;
    while (answered < 8)
    {
        while (front.Ring.TryTakeResponse(out _))
        {
            if (answered++ == 0)
            {
                first = clock.Elapsed.TotalMilliseconds;
            }
        }

        if (answered < 8)
        {
            front.WaitForResponses(TimeSpan.FromMilliseconds(5));
        }
    }

    return first;
}

/// <summary>Operations over seconds; slices add up.</summary>
internal readonly record struct Rate(long Operations, double Seconds)
{
    public double PerSecond => Operations / Seconds;

    public static Rate operator +(Rate a, Rate b) => new(a.Operations + b.Operations, a.Seconds + b.Seconds);
}
