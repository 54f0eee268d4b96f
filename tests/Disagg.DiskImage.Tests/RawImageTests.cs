using System.Security.Cryptography;
using Disagg.DiskImage;
using Disagg.DiskImage.Raw;
using Disagg.TestSupport;

namespace Disagg.DiskImage.Tests;

public sealed class RawImageTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CreatedRawImageIsSparseAndReadsZeros()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 64 << 20);
        Assert.Equal(64L << 20, new FileInfo(path).Length);
        Assert.Equal(0, Qemu.AllocatedBlocks(path));
        using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true);
        Assert.Equal((64L << 20) / 512, image.SectorCount);
        var buf = Pattern.Filled(8192, 0xff);
        image.Read(100, buf);
        Assert.All(buf, b => Assert.Equal(0, b));
    }

    [Fact]
    public void WritesReadBackAndMatchQemuImgCompare()
    {
        var path = _dir.File("d.img");
        var expected = _dir.File("expected.img");
        DiskImages.CreateRaw(path, 4 << 20);
        var model = new byte[4 << 20];
        var data = Pattern.Bytes(3 * 512, 1);
        using (var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false))
        {
            image.Write(7, data);
            data.CopyTo(model, 7 * 512);
            var back = new byte[data.Length];
            image.Read(7, back);
            Assert.Equal(data, back);
            image.Flush();
        }

        File.WriteAllBytes(expected, model);
        Assert.Equal(0, Qemu.Img("compare", "-f", "raw", "-F", "raw", path, expected).ExitCode);
    }

    [Fact]
    public void DiscardPunchesHolesSoTheFileGivesSpaceBack()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 16 << 20);
        using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false);
        image.Write(0, Pattern.Bytes(8 << 20, 2));
        image.Flush();
        var before = Qemu.AllocatedBlocks(path);
        Assert.True(before >= (8 << 20) / 512, $"st_blocks {before} after writing 8 MiB");

        image.Discard(0, (8 << 20) / 512);
        var after = Qemu.AllocatedBlocks(path);
        Assert.True(after < before / 8, $"st_blocks {before} -> {after}: discard did not punch a hole");
        Assert.Equal(16L << 20, new FileInfo(path).Length);
        var back = Pattern.Filled(1 << 20, 0xee);
        image.Read(0, back);
        Assert.All(back, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ReadOnlyImageRefusesWritesAndDiscards()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 1 << 20);
        using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true);
        Assert.True(image.ReadOnly);
        Assert.Equal(DiskImageError.ReadOnly, Assert.Throws<DiskImageException>(() => image.Write(0, new byte[512])).Error);
        Assert.Equal(DiskImageError.ReadOnly, Assert.Throws<DiskImageException>(() => image.Discard(0, 1)).Error);
    }

    [Theory]
    [InlineData(2048, 1)] // one past the end
    [InlineData(2047, 2)] // straddles the end
    [InlineData(-1, 1)]
    [InlineData(long.MaxValue / 512, 1)]
    [InlineData(long.MaxValue, 1)] // sector * 512 overflows
    public void OutOfRangeIoIsAnErrorAndLeavesTheFileUnchanged(long sector, int count)
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 1 << 20);
        using (var w = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false))
        {
            w.Write(0, Pattern.Bytes(1 << 20, 3));
        }

        var hash = SHA256.HashData(File.ReadAllBytes(path));
        using (var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false))
        {
            var buf = new byte[count * 512];
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Write(sector, buf)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Read(sector, buf)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Discard(sector, count)).Error);
            Assert.Equal(DiskImageError.OutOfRange, Assert.Throws<DiskImageException>(() => image.Write(0, new byte[100])).Error);
        }

        Assert.Equal(1L << 20, new FileInfo(path).Length);
        Assert.Equal(hash, SHA256.HashData(File.ReadAllBytes(path)));
    }

    [Fact]
    public void ReadWriteOpenIsExclusiveAndReadOnlyOpensShare()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 1 << 20);
        using (var ro1 = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true))
        using (var ro2 = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true))
        {
            var e = Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false));
            Assert.Equal(DiskImageError.Locked, e.Error);
        }

        using var rw = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false);
        Assert.Equal(DiskImageError.Locked, Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false)).Error);
        Assert.Equal(DiskImageError.Locked, Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true)).Error);
    }

    [Fact]
    public void ExclusiveOpenIsAnFlockAnotherProcessSees()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 1 << 20);
        using (RawImage.Open(path, readOnly: false))
        {
            // flock(1) -n -s: a shared lock request from another process must fail while we hold LOCK_EX.
            var r = HostProcess.Run("flock", ["-n", "-s", path, "true"], TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, r.ExitCode);
        }

        Assert.Equal(0, HostProcess.Run("flock", ["-n", "-x", path, "true"], TimeSpan.FromSeconds(30)).ExitCode);
    }

    [Fact]
    public void CreateRefusesToOverwriteAndOddSizes()
    {
        var path = _dir.File("d.img");
        DiskImages.CreateRaw(path, 4096);
        Assert.Equal(DiskImageError.Io, Assert.Throws<DiskImageException>(() => DiskImages.CreateRaw(path, 4096)).Error);
        Assert.Equal(DiskImageError.InvalidArgument, Assert.Throws<DiskImageException>(() => DiskImages.CreateRaw(_dir.File("e.img"), 1000)).Error);
        Assert.Equal(DiskImageError.Io, Assert.Throws<DiskImageException>(() => DiskImages.Open(_dir.File("missing.img"), DiskImageFormat.Raw, true)).Error);
    }
}
