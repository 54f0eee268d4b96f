using Disagg.DiskImage;
using Disagg.DiskImage.Qcow2;

namespace Disagg.DiskImage.Tests;

/// <summary>Copy-on-write clones: backing files made by qemu read through us, and overlays we make read through qemu.</summary>
public sealed class BackingChainTests : IDisposable
{
    private const int Size = 8 << 20;
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("qcow2")]
    [InlineData("raw")]
    public void QemuMadeOverlayReadsBackingDataThroughUs(string baseFormat)
    {
        var basePath = _dir.File("base." + baseFormat);
        var overlay = _dir.File("overlay.qcow2");
        Qemu.Create(basePath, baseFormat, "8M");
        Qemu.Io(basePath, baseFormat, "write -P 0x11 0 8M");
        Qemu.Img("create", "-q", "-f", "qcow2", "-b", "base." + baseFormat, "-F", baseFormat, overlay); // relative name
        Qemu.Io(overlay, "qcow2", "write -P 0x22 1M 4k", "write -z 2M 64k");
        var model = Pattern.Filled(Size, 0x11);
        Array.Fill(model, (byte)0x22, 1 << 20, 4096);
        Array.Clear(model, 2 << 20, 64 << 10);
        using var image = DiskImages.Open(overlay, DiskImageFormat.Qcow2, readOnly: true);
        Assert.Equal("base." + baseFormat, ((Qcow2Image)image).BackingFile);
        Qcow2ImageTests.AssertReads(image, model);
    }

    [Theory]
    [InlineData("qcow2")]
    [InlineData("raw")]
    public void OverlayWeMakeCopiesOnWriteAndQemuAgrees(string baseFormat)
    {
        var basePath = _dir.File("base." + baseFormat);
        var overlay = _dir.File("overlay.qcow2");
        var expected = _dir.File("expected.raw");
        Qemu.Create(basePath, baseFormat, "8M");
        Qemu.Io(basePath, baseFormat, "write -P 0x11 0 6M");
        DiskImages.CreateQcow2(overlay, null, "base." + baseFormat, baseFormat == "raw" ? DiskImageFormat.Raw : DiskImageFormat.Qcow2);
        var model = new byte[Size];
        Array.Fill(model, (byte)0x11, 0, 6 << 20);
        var baseBefore = File.ReadAllBytes(basePath);
        using (var image = DiskImages.Open(overlay, DiskImageFormat.Qcow2, readOnly: false))
        {
            Assert.Equal(Size / 512, image.SectorCount);
            Qcow2ImageTests.Write(image, model, 1, Pattern.Bytes(512, 1));            // partial: rest of the cluster from the base
            Qcow2ImageTests.Write(image, model, 12_000, Pattern.Bytes(100_352, 2));   // straddles the base's data end
            Qcow2ImageTests.Discard(image, model, 256, 256);                          // whole cluster over backing data -> zero flag
            Qcow2ImageTests.Discard(image, model, 1000, 3);                           // partial over backing data -> zeros written
            Qcow2ImageTests.AssertReads(image, model);
        }

        Assert.Equal(baseBefore, File.ReadAllBytes(basePath)); // the base is never written
        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(overlay);
        Qemu.AssertSameContent(overlay, "qcow2", expected);
        var info = Qemu.Img("info", overlay);
        Assert.Contains("backing file: base." + baseFormat, info.StdOut, StringComparison.Ordinal);
        Assert.Contains("backing file format: " + baseFormat, info.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void WeWriteIntoAQemuMadeOverlayAndQemuAgrees()
    {
        var basePath = _dir.File("base.qcow2");
        var overlay = _dir.File("overlay.qcow2");
        var expected = _dir.File("expected.raw");
        Qemu.Create(basePath, "qcow2", "8M");
        Qemu.Io(basePath, "qcow2", "write -P 0x11 0 8M");
        Qemu.Img("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", overlay);
        Qemu.Io(overlay, "qcow2", "write -P 0x22 1M 4k");
        var model = Pattern.Filled(Size, 0x11);
        Array.Fill(model, (byte)0x22, 1 << 20, 4096);
        using (var image = DiskImages.Open(overlay, DiskImageFormat.Qcow2, readOnly: false))
        {
            Qcow2ImageTests.Write(image, model, ((1 << 20) / 512) + 20, Pattern.Bytes(512, 1)); // next to qemu's write
            Qcow2ImageTests.Write(image, model, 7777, Pattern.Bytes(3 * 512, 2));              // COW from the base
            Qcow2ImageTests.Discard(image, model, 4096, 1024);                               // zero flag over the base
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(overlay);
        Qemu.AssertSameContent(overlay, "qcow2", expected);
    }

    [Fact]
    public void ThreeLevelChainMixedAuthorsReadsTopDown()
    {
        var a = _dir.File("a.raw");
        var b = _dir.File("b.qcow2");
        var c = _dir.File("c.qcow2");
        var expected = _dir.File("expected.raw");
        DiskImages.CreateRaw(a, Size);
        var model = new byte[Size];
        using (var image = DiskImages.Open(a, DiskImageFormat.Raw, readOnly: false))
        {
            Qcow2ImageTests.Write(image, model, 0, Pattern.Bytes(Size, 1));
        }

        Qemu.Img("create", "-q", "-f", "qcow2", "-b", a, "-F", "raw", b); // absolute name
        Qemu.Io(b, "qcow2", "write -P 0x33 2M 1M");
        Array.Fill(model, (byte)0x33, 2 << 20, 1 << 20);
        DiskImages.CreateQcow2(c, Size, "b.qcow2", DiskImageFormat.Qcow2);
        using (var image = DiskImages.Open(c, DiskImageFormat.Qcow2, readOnly: false))
        {
            Qcow2ImageTests.Write(image, model, (2 << 20) / 512 + 3, Pattern.Bytes(1024, 2));
            Qcow2ImageTests.AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(c);
        Qemu.AssertSameContent(c, "qcow2", expected);
    }

    [Fact]
    public void BackingFileSmallerThanOverlayReadsZerosPastItsEnd()
    {
        var basePath = _dir.File("base.raw");
        var overlay = _dir.File("o.qcow2");
        File.WriteAllBytes(basePath, Pattern.Filled(1 << 20, 0x44));
        DiskImages.CreateQcow2(overlay, 4 << 20, "base.raw", DiskImageFormat.Raw);
        var model = new byte[4 << 20];
        Array.Fill(model, (byte)0x44, 0, 1 << 20);
        using var image = DiskImages.Open(overlay, DiskImageFormat.Qcow2, readOnly: false);
        Qcow2ImageTests.Write(image, model, (1 << 20) / 512 - 1, Pattern.Bytes(1024, 3));
        Qcow2ImageTests.AssertReads(image, model);
    }

    [Fact]
    public void BackingLoopIsACorruptionErrorNotACrash()
    {
        var path = _dir.File("loop.qcow2");
        var other = _dir.File("other.qcow2");
        DiskImages.CreateQcow2(other, 1 << 20);
        DiskImages.CreateQcow2(path, 1 << 20, "other.qcow2", DiskImageFormat.Qcow2);
        // Point other.qcow2 at loop.qcow2 behind qemu's back: qemu-img rebase -u does exactly that.
        Assert.Equal(0, Qemu.Img("rebase", "-u", "-f", "qcow2", "-b", "loop.qcow2", "-F", "qcow2", other).ExitCode);
        var e = Assert.Throws<DiskImageException>(() => DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true));
        Assert.Equal(DiskImageError.Corrupt, e.Error);
    }

    [Fact]
    public void MissingBackingFileIsAnIoError()
    {
        var basePath = _dir.File("base.raw");
        var overlay = _dir.File("o.qcow2");
        DiskImages.CreateRaw(basePath, 1 << 20);
        DiskImages.CreateQcow2(overlay, null, "base.raw", DiskImageFormat.Raw);
        File.Delete(basePath);
        var e = Assert.Throws<DiskImageException>(() => DiskImages.Open(overlay, DiskImageFormat.Qcow2, readOnly: true));
        Assert.Equal(DiskImageError.Io, e.Error);
    }
}
