using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Disagg.DiskImage.Qcow2;

namespace Disagg.DiskImage.Tests;

/// <summary>The header struct's offsets are the spec's (qcow2.txt, "Header"), and it decodes what qemu-img writes.</summary>
public sealed class Qcow2HeaderLayoutTests
{
    [Theory]
    [InlineData(nameof(Qcow2Header.Magic), 0)]
    [InlineData(nameof(Qcow2Header.Version), 4)]
    [InlineData(nameof(Qcow2Header.BackingFileOffset), 8)]
    [InlineData(nameof(Qcow2Header.BackingFileSize), 16)]
    [InlineData(nameof(Qcow2Header.ClusterBits), 20)]
    [InlineData(nameof(Qcow2Header.VirtualSize), 24)]
    [InlineData(nameof(Qcow2Header.CryptMethod), 32)]
    [InlineData(nameof(Qcow2Header.L1Size), 36)]
    [InlineData(nameof(Qcow2Header.L1TableOffset), 40)]
    [InlineData(nameof(Qcow2Header.RefcountTableOffset), 48)]
    [InlineData(nameof(Qcow2Header.RefcountTableClusters), 56)]
    [InlineData(nameof(Qcow2Header.NbSnapshots), 60)]
    [InlineData(nameof(Qcow2Header.SnapshotsOffset), 64)]
    [InlineData(nameof(Qcow2Header.IncompatibleFeatures), 72)]
    [InlineData(nameof(Qcow2Header.CompatibleFeatures), 80)]
    [InlineData(nameof(Qcow2Header.AutoclearFeatures), 88)]
    [InlineData(nameof(Qcow2Header.RefcountOrder), 96)]
    [InlineData(nameof(Qcow2Header.HeaderLength), 100)]
    [InlineData(nameof(Qcow2Header.CompressionType), 104)]
    public void HeaderFieldSitsAtTheSpecOffset(string field, int offset)
    {
        Assert.Equal(offset, (int)Marshal.OffsetOf<Qcow2Header>(field));
    }

    [Fact]
    public void HeaderIs112BytesLikeQemuWritesIt()
    {
        Assert.Equal(112, Unsafe.SizeOf<Qcow2Header>());
        Assert.Equal(112, Marshal.SizeOf<Qcow2Header>());
    }

    [Fact]
    public void HeaderWrittenByQemuImgDecodes()
    {
        using var dir = new ScratchDirectory();
        var path = dir.File("q.qcow2");
        Qemu.Create(path, "qcow2", "1G");
        var h = Qcow2Header.Parse(File.ReadAllBytes(path).AsSpan(0, 112));
        Assert.Equal(Qcow2Header.QcowMagic, h.Magic);
        Assert.Equal(3u, h.Version);
        Assert.Equal(16u, h.ClusterBits);
        Assert.Equal(1UL << 30, h.VirtualSize);
        Assert.Equal(4u, h.RefcountOrder);
        Assert.Equal(2u, h.L1Size);
        Assert.Equal(0UL, h.IncompatibleFeatures);
        Assert.True(h.HeaderLength >= 104);
    }

    [Fact]
    public void HeaderRoundTripsThroughBigEndianBytes()
    {
        var h = new Qcow2Header { Magic = Qcow2Header.QcowMagic, Version = 3, VirtualSize = 0x0102030405060708, L1Size = 7, HeaderLength = 112 };
        var bytes = new byte[112];
        h.WriteTo(bytes);
        Assert.Equal(new byte[] { 0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3 }, bytes[..8]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, bytes[24..32]);
        var back = Qcow2Header.Parse(bytes);
        Assert.Equal(h.VirtualSize, back.VirtualSize);
        Assert.Equal(7u, back.L1Size);
    }
}
