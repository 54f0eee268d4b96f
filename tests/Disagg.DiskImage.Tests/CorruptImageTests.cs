using System.Buffers.Binary;
using System.Security.Cryptography;
using Disagg.DiskImage;

namespace Disagg.DiskImage.Tests;

/// <summary>
/// Garbage, truncated and hostile images: a typed <see cref="DiskImageException"/> with a
/// clear reason, never another exception, never a write into the image's metadata.
/// </summary>
public sealed class CorruptImageTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void GarbageFileIsNotAQcow2Image()
    {
        var path = _dir.File("g.qcow2");
        File.WriteAllBytes(path, Pattern.Bytes(1 << 20, 1));
        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Corrupt, e.Error);
        Assert.Contains("magic", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(100 << 10)] // header intact, tables cut off
    public void TruncatedImageIsCorrupt(int length)
    {
        var path = QemuImage("64M");
        using (var f = File.OpenWrite(path))
        {
            f.SetLength(length);
        }

        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Corrupt, e.Error);
    }

    [Fact]
    public void Version2ImageIsRefused()
    {
        var path = _dir.File("v2.qcow2");
        Qemu.Create(path, "qcow2", "1M", "-o", "compat=0.10");
        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Unsupported, e.Error);
        Assert.Contains("version 2", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CompressedImageIsRefusedAtOpen()
    {
        var raw = _dir.File("src.raw");
        var path = _dir.File("c.qcow2");
        File.WriteAllBytes(raw, Pattern.Filled(1 << 20, 0x61));
        Assert.Equal(0, Qemu.Img("convert", "-c", "-f", "raw", "-O", "qcow2", raw, path).ExitCode);
        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Unsupported, e.Error);
        Assert.Contains("compress", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EncryptedImageIsRefused()
    {
        var path = QemuImage("1M");
        Patch32(path, 32, 1); // crypt_method = AES
        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Unsupported, e.Error);
        Assert.Contains("encrypted", e.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1UL << 2, "external data file")]
    [InlineData(1UL << 4, "extended L2")]
    [InlineData(1UL << 40, "unknown")]
    public void UnsupportedIncompatibleFeatureIsRefused(ulong bit, string named)
    {
        var path = QemuImage("1M");
        Patch64(path, 72, bit);
        var e = Open(path, readOnly: true);
        Assert.Equal(DiskImageError.Unsupported, e.Error);
        Assert.Contains(named, e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DirtyImageOpensReadOnlyButNotReadWrite()
    {
        var path = QemuImage("1M");
        Patch64(path, 72, 1); // dirty bit
        using (DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true))
        {
        }

        Assert.Equal(DiskImageError.Unsupported, Open(path, readOnly: false).Error);
    }

    [Fact]
    public void OtherRefcountWidthsAndSnapshotsAreReadableButNotWritable()
    {
        var bits8 = QemuImage("4M", "-o", "refcount_bits=8");
        Qemu.Io(bits8, "qcow2", "write -P 0x42 0 64k");
        var snap = QemuImage("4M");
        Qemu.Io(snap, "qcow2", "write -P 0x42 0 64k");
        Assert.Equal(0, Qemu.Img("snapshot", "-c", "s1", snap).ExitCode);
        foreach (var path in new[] { bits8, snap })
        {
            using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true))
            {
                var buf = new byte[65536];
                image.Read(0, buf);
                Assert.All(buf, b => Assert.Equal(0x42, b));
            }

            Assert.Equal(DiskImageError.Unsupported, Open(path, readOnly: false).Error);
        }
    }

    [Fact]
    public void AutoclearBitsAreClearedWhenOpenedForWriting()
    {
        var path = QemuImage("1M");
        Patch64(path, 88, 1);
        using (DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
        }

        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(path).AsSpan(88)));
        Qemu.AssertClean(path);
    }

    [Fact]
    public void L1EntryPastEndOfFileIsCorrupt()
    {
        var path = QemuImage("64M");
        Patch64(path, L1Offset(path), 0x8000_0000_0100_0000UL); // L2 table "at 16 MiB" of a small file
        Assert.Equal(DiskImageError.Corrupt, Open(path, readOnly: true).Error);
    }

    [Fact]
    public void L2EntryPointingAtMetadataIsReadableButNeverWritten()
    {
        var path = QemuImage("64M");
        Qemu.Io(path, "qcow2", "write -P 0x11 0 64k");
        var l2 = (long)(BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(path).AsSpan((int)L1Offset(path))) & 0x00FF_FFFF_FFFF_FE00UL);
        var refTable = (long)BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(path).AsSpan(48));
        Patch64(path, l2, 0x8000_0000_0000_0000UL | (ulong)refTable); // guest cluster 0 -> the refcount table
        var hash = SHA256.HashData(File.ReadAllBytes(path));
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            image.Read(0, new byte[4096]);
            var e = Assert.Throws<DiskImageException>(() => image.Write(0, new byte[4096]));
            Assert.Equal(DiskImageError.Corrupt, e.Error);
        }

        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void RandomlyDamagedImagesOnlyEverFailWithDiskImageException(int seed)
    {
        var path = QemuImage("8M", "-o", "cluster_size=4096");
        Qemu.Io(path, "qcow2", "write -P 0x11 0 1M", "write -P 0x22 5M 64k");
        var pristine = File.ReadAllBytes(path);
        var random = new Random(seed);
        var buffer = new byte[128 << 10];
        var opened = 0;
        for (var i = 0; i < 500; i++)
        {
            var damaged = (byte[])pristine.Clone();
            for (var k = random.Next(1, 6); k > 0; k--)
            {
                // Mostly the metadata at the front (header, refcount table/block, L1, first L2 tables).
                var at = random.Next(4) == 0 ? random.Next(damaged.Length) : random.Next(Math.Min(damaged.Length, 6 * 4096));
                damaged[at] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, damaged);
            try
            {
                using var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: random.Next(2) == 0);
                opened++;
                var sector = random.NextInt64(0, image.SectorCount - (buffer.Length / 512));
                image.Read(sector, buffer);
                if (!image.ReadOnly)
                {
                    image.Write(sector, buffer);
                    image.Discard(random.NextInt64(0, image.SectorCount - 128), 128);
                }
            }
            catch (DiskImageException)
            {
                // the only acceptable failure
            }
        }

        Assert.True(opened > 30, $"only {opened} of 500 damaged images opened: the test exercises little I/O");
    }

    private string QemuImage(string size, params string[] extra)
    {
        var path = _dir.File($"q{Guid.NewGuid():N}.qcow2");
        Qemu.Create(path, "qcow2", size, extra);
        return path;
    }

    private static DiskImageException Open(string path, bool readOnly) =>
        Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly).Dispose());

    private static long L1Offset(string path) => (long)BinaryPrimitives.ReadUInt64BigEndian(File.ReadAllBytes(path).AsSpan(40));

    private static void Patch32(string path, long offset, uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, value);
        using var f = File.OpenWrite(path);
        f.Position = offset;
        f.Write(b);
    }

    private static void Patch64(string path, long offset, ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(b, value);
        using var f = File.OpenWrite(path);
        f.Position = offset;
        f.Write(b);
    }
}
