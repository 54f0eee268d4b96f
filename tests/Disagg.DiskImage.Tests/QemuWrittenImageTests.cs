using System.Buffers.Binary;
using Disagg.DiskImage;

namespace Disagg.DiskImage.Tests;

/// <summary>Images qemu-img and qemu-io create and write read correctly through our code, and stay valid after we write them.</summary>
public sealed class QemuWrittenImageTests : IDisposable
{
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void QemuIoPatternsReadBackThroughOurCode()
    {
        var path = _dir.File("q.qcow2");
        Qemu.Create(path, "qcow2", "64M");
        Qemu.Io(path, "qcow2", "write -P 0xab 0 64k", "write -P 0x11 100k 3k", "write -P 0x22 10M 1M", "write -z 10368k 128k");
        var model = new byte[64 << 20];
        Array.Fill(model, (byte)0xab, 0, 64 << 10);
        Array.Fill(model, (byte)0x11, 100 << 10, 3 << 10);
        Array.Fill(model, (byte)0x22, 10 << 20, 1 << 20);
        Array.Clear(model, 10368 << 10, 128 << 10);
        using var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        Assert.Equal((64L << 20) / 512, image.SectorCount);
        Qcow2ImageTests.AssertReads(image, model);
    }

    [Theory]
    [InlineData("cluster_size=65536")]
    [InlineData("cluster_size=4096")]
    [InlineData("cluster_size=512")]
    [InlineData("cluster_size=2M")]
    [InlineData("preallocation=metadata")]
    public void WeWriteQemuCreatedImagesAndQemuAgrees(string options)
    {
        var path = _dir.File("q.qcow2");
        var expected = _dir.File("expected.raw");
        Qemu.Create(path, "qcow2", "16M", "-o", options);
        Qemu.Io(path, "qcow2", "write -P 0x5a 1M 200k", "write -z 3M 64k");
        var model = new byte[16 << 20];
        Array.Fill(model, (byte)0x5a, 1 << 20, 200 << 10);
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            Qcow2ImageTests.Write(image, model, 2100, Pattern.Bytes(70_000 / 512 * 512, 1)); // over qemu's data
            Qcow2ImageTests.Write(image, model, (3 << 20) / 512, Pattern.Bytes(4096, 2));      // into a zero cluster
            Qcow2ImageTests.Write(image, model, 30_000, Pattern.Bytes(1 << 20, 3));           // fresh clusters
            Qcow2ImageTests.Discard(image, model, (1 << 20) / 512, 128);
            Qcow2ImageTests.AssertReads(image, model);
        }

        File.WriteAllBytes(expected, model);
        Qemu.AssertClean(path);
        Qemu.AssertSameContent(path, "qcow2", expected);
    }

    [Fact]
    public void RefcountTableOfAQemuImageGrowsWhenTheFileOutgrowsIt()
    {
        // 512-byte clusters: qemu's one-cluster refcount table describes only 8 MiB of file.
        const int size = 48 << 20;
        var path = _dir.File("small.qcow2");
        var expected = _dir.File("expected.raw");
        Qemu.Create(path, "qcow2", "48M", "-o", "cluster_size=512");
        var tableBefore = Qcow2Field(path, 48);
        var model = new byte[size];
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            for (var i = 0; i < 20; i++)
            {
                Qcow2ImageTests.Write(image, model, i * 4096L, Pattern.Bytes(1 << 20, i)); // 20 MiB spread over 40 MiB
            }

            Qcow2ImageTests.AssertReads(image, model);
        }

        Assert.NotEqual(tableBefore, Qcow2Field(path, 48));
        File.WriteAllBytes(expected, model);
        var check = Qemu.Check(path);
        Assert.True(check.ExitCode == 0, "qemu-img check: " + check);
        Qemu.AssertSameContent(path, "qcow2", expected);
        using var reopened = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        Qcow2ImageTests.AssertReads(reopened, model);
    }

    [Fact]
    public void QemuReadsWhatWeWroteWithQemuIoVerify()
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 8 << 20);
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            image.Write(0, Pattern.Filled(64 << 10, 0xab));
            image.Write((5 << 20) / 512, Pattern.Filled(3 << 10, 0xcd));
        }

        // qemu-io "read -P" fails (prints "Pattern verification failed") if a byte differs.
        Qemu.Io(path, "qcow2", "read -P 0xab 0 64k", "read -P 0xcd 5M 3k", "read -P 0 64k 1M");
    }

    [Fact]
    public void QemuWritesAfterUsAndCheckStaysClean()
    {
        var path = _dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 8 << 20);
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            image.Write(0, Pattern.Bytes(1 << 20, 1));
            image.Discard(256, 512);
        }

        Qemu.Io(path, "qcow2", "write -P 0x77 512k 1M", "discard 0 64k");
        Qemu.AssertClean(path);
        Qemu.Io(path, "qcow2", "read -P 0x77 512k 1M", "read -P 0 0 64k");
    }

    private static ulong Qcow2Field(string path, int offset)
    {
        var b = new byte[8];
        using var f = File.OpenRead(path);
        f.Position = offset;
        f.ReadExactly(b);
        return BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
