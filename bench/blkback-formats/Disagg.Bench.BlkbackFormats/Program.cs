using System.Globalization;
using Disagg.Bench.BlkbackFormats;
using Disagg.DiskImage;

// 4 KiB random read/write IOPS and 1 MiB sequential MB/s through raw and qcow2 IDiskImage,
// next to the same pattern done with pread/pwrite directly on the same file, in the same run.
// Each figure is measured twice, alternating direct and ours, and the best of each is kept,
// so page-cache writeback from an earlier figure does not favour whichever ran second.
// usage: Disagg.Bench.BlkbackFormats DIR [SIZE_MIB] [SECONDS_PER_FIGURE]
var dir = args.Length > 0 ? args[0] : Path.GetTempPath();
var sizeMiB = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 1.0;
var size = (long)sizeMiB << 20;
var block = new byte[4096];
var big = new byte[1 << 20];
Random.Shared.NextBytes(big);

foreach (var format in new[] { DiskImageFormat.Raw, DiskImageFormat.Qcow2 })
{
    var name = format == DiskImageFormat.Raw ? "raw" : "qcow2";
    var path = Path.Combine(dir, "bench." + name);
    File.Delete(path);
    if (format == DiskImageFormat.Raw)
    {
        DiskImages.CreateRaw(path, size);
    }
    else
    {
        DiskImages.CreateQcow2(path, size);
    }

    // Fill once so the figures measure steady state, not allocation.
    using (var fill = DiskImages.Open(path, format, readOnly: false))
    {
        for (long at = 0; at < size; at += big.Length)
        {
            fill.Write(at / 512, big);
        }

        fill.Flush();
    }

    // Direct I/O goes only where guest data lives (for qcow2: data clusters, never metadata).
    var data = format == DiskImageFormat.Raw ? DataRegion.Whole(path, size) : DataRegion.Qcow2DataClusters(path);
    // The image holds an exclusive lock while open, so direct and ours take turns on the file.
    Compare(name, "randread-4k", "IOPS",
        () => Direct(path, f => Measure.Iops(seconds, r => RandomAccess.Read(f, block, data.Random4k(r)))),
        () => Ours(path, format, image => Measure.Iops(seconds, r => image.Read(Measure.Random4k(r, size) / 512, block))));
    Compare(name, "randwrite-4k", "IOPS",
        () => Direct(path, f => Measure.Iops(seconds, r => RandomAccess.Write(f, (ReadOnlySpan<byte>)block, data.Random4k(r)))),
        () => Ours(path, format, image => Measure.Iops(seconds, r => image.Write(Measure.Random4k(r, size) / 512, block))));
    Compare(name, "seqread-1m", "MB/s",
        () => Direct(path, f => Measure.Sequential(seconds, data.Mebibytes, i => RandomAccess.Read(f, big, data.Mebibyte(i)))),
        () => Ours(path, format, image => Measure.Sequential(seconds, size >> 20, i => image.Read(i << 11, big))));
    Compare(name, "seqwrite-1m", "MB/s",
        () => Direct(path, f => Measure.Sequential(seconds, data.Mebibytes, i => RandomAccess.Write(f, (ReadOnlySpan<byte>)big, data.Mebibyte(i)))),
        () => Ours(path, format, image => Measure.Sequential(seconds, size >> 20, i => image.Write(i << 11, big))));
    File.Delete(path);
}

// First writes into a fresh qcow2: every 4 KiB write lands in a cluster never written before, so each
// one takes the allocating path (refcounts, L2 entry, whole 64 KiB cluster); the floor is pwrite of the
// same 4 KiB at the same offsets into a fresh sparse raw file (which allocates file-system blocks too).
{
    const long freshSize = 1L << 30;
    var fresh = Path.Combine(dir, "fresh.qcow2");
    var floor = Path.Combine(dir, "floor.raw");
    File.Delete(fresh);
    File.Delete(floor);
    DiskImages.CreateQcow2(fresh, freshSize);
    DiskImages.CreateRaw(floor, freshSize);
    var clusters = Enumerable.Range(0, (int)(freshSize >> 16)).Select(c => (long)c << 16).ToArray();
    new Random(3).Shuffle(clusters);
    var d = Direct(floor, f => Measure.Each(clusters, at => RandomAccess.Write(f, (ReadOnlySpan<byte>)block, at)));
    var q = Ours(fresh, DiskImageFormat.Qcow2, image => Measure.Each(clusters, at => image.Write(at / 512, block)));
    Report("qcow2-alloc/randwrite-4k", q, "IOPS", d);
    File.Delete(fresh);
    File.Delete(floor);
}

return 0;

static double Direct(string path, Func<Microsoft.Win32.SafeHandles.SafeFileHandle, double> run)
{
    using var f = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
    return run(f);
}

static double Ours(string path, DiskImageFormat format, Func<IDiskImage, double> run)
{
    using var image = DiskImages.Open(path, format, readOnly: false);
    return run(image);
}

static void Compare(string format, string figure, string unit, Func<double> direct, Func<double> ours)
{
    var d = direct();
    var o = ours();
    d = Math.Max(d, direct());
    o = Math.Max(o, ours());
    Report($"{format}-direct/{figure}", d, unit, null);
    Report($"{format}/{figure}", o, unit, d);
}

static void Report(string figure, double value, string unit, double? direct)
{
    var line = $"bench: blkback-formats/{figure} {value.ToString("F0", CultureInfo.InvariantCulture)} {unit}";
    if (direct is { } d)
    {
        line += $" ratio {(value / d).ToString("F2", CultureInfo.InvariantCulture)} vs direct";
    }

    Console.WriteLine(line);
}
