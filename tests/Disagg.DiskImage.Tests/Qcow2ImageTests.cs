using System.Security.Cryptography;
using Disagg.DiskImage;
using Disagg.DiskImage.Qcow2;

namespace Disagg.DiskImage.Tests;

/// <summary>Images we create and write, judged by qemu-img check and qemu-img compare.</summary>
public sealed class Qcow2ImageTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(16, 1L << 30)]
    [InlineData(9, 8L << 20)]
    [InlineData(12, 100L << 20)]
    [InlineData(21, 5L << 30)]
    [InlineData(16, 3L * 1024 * 1024 * 1024 * 1024)] // 3 TiB: several L1 clusters worth of coverage
    public void CreatedImagePassesQemuImgCheckAndHasTheSize(int clusterBits, long size)
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, size, clusterBits: clusterBits);
        Qemu.AssertClean(path);
        var info = Qemu.Img("info", "-f", "qcow2", path);
        Assert.Contains($"({size} bytes)", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("compat: 1.1", info.StdOut, StringComparison.Ordinal);
        using var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        Assert.Equal(size / 512, image.SectorCount);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(9)]
    [InlineData(12)]
    public void WrittenImageMatchesExpectedContentAndChecksClean(int clusterBits)
    {
        const int size = 8 << 20;
        var path = _dir.File("d.qcow2");
        var expected = _dir.File("expected.raw");
        DiskImages.CreateQcow2(path, size, clusterBits: clusterBits);
        var model = new byte[size];
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            Write(image, model, 0, Pattern.Bytes(512, 1));                // first sector
            Write(image, model, 3, Pattern.Bytes(70_000 / 512 * 512, 2)); // crosses clusters, unaligned
            Write(image, model, 5000, Pattern.Bytes(1 << 20, 3));          // many whole clusters
            Write(image, model, (size / 512) - 1, Pattern.Bytes(512, 4));  // last sector
            Write(image, model, 5001, Pattern.Bytes(1024, 5));             // overwrite in place
            image.Flush();
            AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(path);
        Qemu.AssertSameContent(path, "qcow2", expected);
        using var reopened = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        AssertReads(reopened, model);
    }

    [Fact]
    public void DiscardFreesClustersAndRangeReadsZeros()
    {
        const int size = 16 << 20;
        var path = _dir.File("d.qcow2");
        var expected = _dir.File("expected.raw");
        DiskImages.CreateQcow2(path, size);
        var model = new byte[size];
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            Write(image, model, 0, Pattern.Bytes(8 << 20, 1));
            image.Flush();
            var before = Qemu.AllocatedBlocks(path);
            Discard(image, model, 100, (4 << 20) / 512); // unaligned start and end: partial clusters zeroed
            Assert.True(Qemu.AllocatedBlocks(path) < before - ((3 << 20) / 512), "discarded clusters were not given back to the host");
            AssertReads(image, model);

            // Freed clusters are reused by later writes.
            Write(image, model, 8192, Pattern.Bytes(2 << 20, 2));
            AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(path);
        Qemu.AssertSameContent(path, "qcow2", expected);
        var map = Qemu.Img("map", "-f", "qcow2", "--output=json", path);
        Assert.Equal(0, map.ExitCode);
    }

    [Fact]
    public void DiscardingAHugeMostlyEmptyDiskIsQuickAndExact()
    {
        var path = _dir.File("d.qcow2");
        var size = 4L << 40; // 4 TiB virtual
        DiskImages.CreateQcow2(path, size);
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            image.Write(0, Pattern.Bytes(1 << 20, 1));
            image.Write((size / 512) - 2048, Pattern.Bytes(1 << 20, 2));
            var started = System.Diagnostics.Stopwatch.StartNew();
            image.Discard(8, image.SectorCount - 16);
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"discard of 4 TiB took {started.Elapsed}");
            var head = new byte[8192];
            image.Read(0, head);
            Assert.Equal(Pattern.Bytes(1 << 20, 1).AsSpan(0, 4096).ToArray(), head[..4096]);
            Assert.All(head[4096..], b => Assert.Equal(0, b));
        }

        Qemu.AssertClean(path);
    }

    [Fact]
    public void ReadOnlyImageRefusesWritesAndDiscards()
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 1 << 20);
        var hash = SHA256.HashData(File.ReadAllBytes(path));
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true))
        {
            Assert.Equal(DiskImageError.ReadOnly, Assert.Throws<DiskImageException>(() => image.Write(0, new byte[512])).Error);
            Assert.Equal(DiskImageError.ReadOnly, Assert.Throws<DiskImageException>(() => image.Discard(0, 8)).Error);
        }

        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
    }

    [Theory]
    [InlineData(2048, 1)]
    [InlineData(2047, 2)]
    [InlineData(-5, 1)]
    [InlineData(long.MaxValue / 512, 1)]
    [InlineData(long.MaxValue, 1)]
    public void OutOfRangeIoIsAnErrorAndLeavesTheFileUnchanged(long sector, int count)
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 1 << 20);
        using (var w = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            w.Write(0, Pattern.Bytes(1 << 20, 3));
        }

        var hash = SHA256.HashData(File.ReadAllBytes(path));
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            var buf = new byte[count * 512];
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Write(sector, buf)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Read(sector, buf)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Discard(sector, count)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Read(0, new byte[511])).Error);
        }

        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
        Qemu.AssertClean(path);
    }

    [Fact]
    public void ReadWriteOpenIsExclusive()
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 1 << 20);
        using (DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true))
        using (DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true))
        {
            Assert.Equal(DiskImageError.Locked, Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false)).Error);
        }

        using var rw = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false);
        Assert.Equal(DiskImageError.Locked, Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true)).Error);
    }

    [Fact]
    public void ConcurrentWritersOnDistinctRangesAllLand()
    {
        const int size = 32 << 20;
        var path = _dir.File("d.qcow2");
        var expected = _dir.File("expected.raw");
        DiskImages.CreateQcow2(path, size);
        var model = new byte[size];
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            // 8 threads, each its own interleaved 4 KiB slots: allocation races inside shared clusters.
            var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
            {
                var data = new byte[4096];
                for (var i = 0; i < 256; i++)
                {
                    var slot = (i * 8) + t;
                    var sector = (long)slot * 8 * 3;
                    new Random((t * 1000) + i).NextBytes(data);
                    image.Write(sector, data);
                    lock (model)
                    {
                        data.CopyTo(model, sector * 512);
                    }
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60))));
            AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(path);
        Qemu.AssertSameContent(path, "qcow2", expected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConcurrentWritesDiscardsAndReadsStayConsistent(bool withBacking)
    {
        // Each thread owns a 2 MiB region (sharing L2 tables and the allocator with the others)
        // and checks its own reads against its own model while the others allocate and free.
        const int threads = 4, region = 2 << 20, size = threads * region;
        var path = _dir.File("d.qcow2");
        var expected = _dir.File("expected.raw");
        var model = new byte[size];
        if (withBacking)
        {
            var basePath = _dir.File("base.raw");
            Pattern.Bytes(size, 77).CopyTo(model, 0);
            File.WriteAllBytes(basePath, model);
            DiskImages.CreateQcow2(path, null, "base.raw", DiskImageFormat.Raw, clusterBits: 12);
        }
        else
        {
            DiskImages.CreateQcow2(path, size, clusterBits: 12);
        }

        var failures = new List<string>();
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                var random = new Random(t);
                var buf = new byte[64 << 10];
                var first = (long)t * region / 512;
                try
                {
                    for (var i = 0; i < 400; i++)
                    {
                        var count = random.Next(1, buf.Length / 512);
                        var sector = first + random.Next(0, (region / 512) - count);
                        var mine = model.AsSpan((int)(sector * 512), count * 512); // only this thread touches it
                        switch (random.Next(4))
                        {
                            case 0:
                            case 1:
                                random.NextBytes(buf.AsSpan(0, count * 512));
                                image.Write(sector, buf.AsSpan(0, count * 512));
                                buf.AsSpan(0, count * 512).CopyTo(mine);
                                break;
                            case 2:
                                image.Discard(sector, count);
                                mine.Clear();
                                break;
                            default:
                                image.Read(sector, buf.AsSpan(0, count * 512));
                                if (!buf.AsSpan(0, count * 512).SequenceEqual(mine))
                                {
                                    throw new InvalidOperationException($"thread {t} op {i}: read of {sector}+{count} differs");
                                }

                                break;
                        }
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or DiskImageException)
                {
                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                }
            })).ToList();
            workers.ForEach(w => w.Start());
            Assert.All(workers, w => Assert.True(w.Join(TimeSpan.FromSeconds(120))));
            Assert.Empty(failures);
            AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(path);
        Qemu.AssertSameContent(path, "qcow2", expected);
    }

    [Fact]
    public void CreateRejectsBadArguments()
    {
        Assert.Equal(DiskImageError.InvalidArgument, Assert.Throws<DiskImageException>(() => DiskImages.CreateQcow2(_dir.File("a"), 1000)).Error);
        Assert.Equal(DiskImageError.InvalidArgument, Assert.Throws<DiskImageException>(() => DiskImages.CreateQcow2(_dir.File("b"), 1 << 20, clusterBits: 8)).Error);
        Assert.Equal(DiskImageError.InvalidArgument, Assert.Throws<DiskImageException>(() => DiskImages.CreateQcow2(_dir.File("c"), null)).Error);
        Assert.Equal(DiskImageError.Io, Assert.Throws<DiskImageException>(() => DiskImages.CreateQcow2(_dir.File("d"), 1 << 20, "missing.raw")).Error);
        Assert.False(File.Exists(_dir.File("d")));
    }

    internal static void Write(IDiskImage image, byte[] model, long sector, byte[] data)
    {
        image.Write(sector, data);
        data.CopyTo(model, sector * 512);
    }

    internal static void Discard(IDiskImage image, byte[] model, long sector, long count)
    {
        image.Discard(sector, count);
        Array.Clear(model, (int)(sector * 512), (int)(count * 512));
    }

    internal static void AssertReads(IDiskImage image, byte[] model)
    {
        var buf = new byte[1 << 20];
        for (var at = 0; at < model.Length; at += buf.Length)
        {
            var n = Math.Min(buf.Length, model.Length - at);
            image.Read(at / 512, buf.AsSpan(0, n));
            if (!buf.AsSpan(0, n).SequenceEqual(model.AsSpan(at, n)))
            {
                var i = 0;
                while (buf[i] == model[at + i])
                {
                    i++;
                }

                Assert.Fail($"{image.Path}: byte {at + i} reads {buf[i]:x2}, expected {model[at + i]:x2}");
            }
        }
    }
}
