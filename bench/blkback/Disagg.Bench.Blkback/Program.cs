using System.Diagnostics;
using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Blkfront.Native;
using Microsoft.Win32.SafeHandles;

// bench/blkback: the same I/O patterns through blkback (native frontend -> ring -> grant copy -> pread/pwrite in
// disagg-blkback) and directly (pread/pwrite from this process, one at a time) on the same 64 MiB file.
var quick = args.Contains("--quick");
var seconds = quick ? 2.0 : 6.0;
const long DiskBytes = 64L << 20;
const int Blocks = (int)(DiskBytes / 4096);

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

// The floor first: the file is ours until blkback opens it (it then holds the lock).
var directRead = Direct(image, write: false, seconds);
var directWrite = Direct(image, write: true, seconds);
var directSeq = DirectSequential(image, seconds);

var front = await rig.AttachAsync(new BlkfrontDisk(image), pages: 64);
var read = Ring(front, BlkifOperation.Read, seconds, depth: 32, pagesPerRequest: 1, sequential: false);
var write = Ring(front, BlkifOperation.Write, seconds, depth: 32, pagesPerRequest: 1, sequential: false);
var seq = Ring(front, BlkifOperation.Read, seconds, depth: 5, pagesPerRequest: 11, sequential: true);
Report("randread-4k-direct", directRead, "IOPS");
Report("randread-4k", read, "IOPS", read / directRead, "randread-4k-direct");
Report("randwrite-4k-direct", directWrite, "IOPS");
Report("randwrite-4k", write, "IOPS", write / directWrite, "randwrite-4k-direct");
Report("seqread-direct", directSeq, "MB/s");
Report("seqread-44k", seq * 11 * 4096 / 1e6, "MB/s", seq * 11 * 4096 / 1e6 / directSeq, "seqread-direct");

var recoveries = new List<double>();
for (var i = 0; i < (quick ? 2 : 5); i++)
{
    recoveries.Add(await RecoveryAsync(rig, front));
}

recoveries.Sort();
Report("recovery-sigkill-to-first-response", recoveries[recoveries.Count / 2], "ms");
return 0;

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bench: blkback/{figure} {value:0.##} {unit}{(ratio is { } r ? $" ratio {r:0.##} vs {versus}" : "")}"));

// One process, one request at a time, pread/pwrite of 4 KiB at random 4 KiB offsets (page cache, as blkback's).
static double Direct(string path, bool write, double seconds)
{
    using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
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

    return n / clock.Elapsed.TotalSeconds;
}

static double DirectSequential(string path, double seconds)
{
    using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
    var buffer = new byte[11 * 4096];
    long bytes = 0;
    long offset = 0;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        var got = RandomAccess.Read(handle, buffer, offset);
        bytes += got;
        offset = offset + buffer.Length >= DiskBytes ? 0 : offset + buffer.Length;
    }

    return bytes / clock.Elapsed.TotalSeconds / 1e6;
}

// Keeps `depth` requests in flight on the ring; returns requests per second.
static double Ring(NativeBlkfront front, BlkifOperation op, double seconds, int depth, int pagesPerRequest, bool sequential)
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

    return done / clock.Elapsed.TotalSeconds;
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
