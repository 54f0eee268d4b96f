using System.Diagnostics;
using System.Globalization;
using Disagg.Bench.Virtio;
using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Transport;

// virtio-blk 4 KiB random reads through the library (guest ring in RAM, transport, virtqueue, the
// device, the raw IDiskImage) next to a plain pread loop over the same file: the floor, measured in the
// same run. Best of three alternating rounds each, so neither side gets the warmer cache.
// usage: Disagg.Bench.Virtio DIR [SIZE_MIB] [SECONDS_PER_ROUND]
var dir = args.Length > 0 ? args[0] : "/dev/shm";
var sizeMiB = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 1.0;
var path = Path.Combine(dir, $"bench-virtio-{Environment.ProcessId}.raw");
var size = (long)sizeMiB << 20;
File.Delete(path);
DiskImages.CreateRaw(path, size);
try
{
    using (var fill = File.OpenHandle(path, FileMode.Open, FileAccess.Write))
    {
        var chunk = new byte[1 << 20];
        Random.Shared.NextBytes(chunk);
        for (long at = 0; at < size; at += chunk.Length)
        {
            RandomAccess.Write(fill, chunk, at);
        }
    }

    double bestFloor = 0, bestOurs = 0;
    for (var round = 0; round < 3; round++)
    {
        bestFloor = Math.Max(bestFloor, Floor(path, size, seconds));
        bestOurs = Math.Max(bestOurs, Ours(path, size, seconds));
    }

    var ratio = bestOurs / bestFloor;
    Console.WriteLine(FormattableString.Invariant($"bench: virtio/blk-randread-4k {bestOurs:F0} req/s ratio {ratio:F2} vs pread"));
    Console.WriteLine(FormattableString.Invariant($"bench: virtio/pread-4k-floor {bestFloor:F0} req/s"));
}
finally
{
    File.Delete(path);
}

static double Floor(string path, long size, double seconds)
{
    using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
    var block = new byte[4096];
    var random = new Random(1);
    var watch = Stopwatch.StartNew();
    long done = 0;
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        for (var i = 0; i < BlkRing.Batch; i++)
        {
            RandomAccess.Read(file, block, random.NextInt64(size / 4096) * 4096);
        }

        done += BlkRing.Batch;
    }

    return done / watch.Elapsed.TotalSeconds;
}

static double Ours(string path, long size, double seconds)
{
    using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true);
    var memory = new RamGuestMemory(0x8000_0000, 1 << 20);
    var transport = new VirtioMmioTransport(new VirtioBlkDevice("bench", image, "bench"), memory, new NoLine());
    var ring = new BlkRing(memory, transport);
    var random = new Random(1);
    var watch = Stopwatch.StartNew();
    long done = 0;
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        if (!ring.ReadBatch(random, image.SectorCount))
        {
            throw new InvalidOperationException($"a request failed: {transport.LastFault}");
        }

        done += BlkRing.Batch;
    }

    return done / watch.Elapsed.TotalSeconds;
}
