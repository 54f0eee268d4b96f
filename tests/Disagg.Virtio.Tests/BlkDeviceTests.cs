using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests;

/// <summary>virtio-blk against real raw and qcow2 files, checked by qemu-img and qemu-io.</summary>
public sealed class BlkDeviceTests
{
    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void RawDiskWrittenThroughVirtioHoldsTheBytesInTheFile()
    {
        using var dir = new TempDir();
        var path = dir.File("d.raw");
        DiskImages.CreateRaw(path, 4 << 20);
        var data = Pattern(8192, 1);
        using (var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: false))
        {
            var g = new BlkGuest(image);
            Assert.Equal(VirtioBlk.StatusOk, g.Write(10, data));
            var (status, back) = g.Read(10, 8192);
            Assert.Equal(VirtioBlk.StatusOk, status);
            Assert.Equal(data, back);
            Assert.Null(g.Driver.Transport.LastFault);
        }

        var file = File.ReadAllBytes(path);
        Assert.Equal(data, file.AsSpan(10 * 512, 8192).ToArray());
    }

    [Fact]
    public void Qcow2WrittenThroughVirtioIsCleanForQemuImgAndHoldsTheBytes()
    {
        using var dir = new TempDir();
        var path = dir.File("d.qcow2");
        DiskImages.CreateQcow2(path, 16 << 20);
        var a = Pattern(4096, 2);
        var b = Pattern(200 * 1024, 3); // crosses clusters and the 64 KiB bounce buffer
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            var g = new BlkGuest(image);
            Assert.Equal(VirtioBlk.StatusOk, g.Write(0, a));
            Assert.Equal(VirtioBlk.StatusOk, g.Write(1000, b));
            Assert.Equal(VirtioBlk.StatusOk, g.Flush());
            Assert.Equal(b, g.Read(1000, b.Length, indirect: true).Data);
        }

        Tool.Check("qemu-img", "check", "-f", "qcow2", path);
        var raw = dir.File("out.raw");
        Tool.Check("qemu-img", "convert", "-f", "qcow2", "-O", "raw", path, raw);
        var bytes = File.ReadAllBytes(raw);
        Assert.Equal(a, bytes.AsSpan(0, a.Length).ToArray());
        Assert.Equal(b, bytes.AsSpan(1000 * 512, b.Length).ToArray());
        Assert.All(bytes.AsSpan(a.Length, (1000 * 512) - a.Length).ToArray(), x => Assert.Equal(0, x));
    }

    [Fact]
    public void Qcow2WrittenByQemuIoReadsBackThroughVirtio()
    {
        using var dir = new TempDir();
        var path = dir.File("q.qcow2");
        Tool.Check("qemu-img", "create", "-q", "-f", "qcow2", path, "8M");
        Tool.Check("qemu-io", "-f", "qcow2", "-c", "write -P 0xa5 65536 131072", path);
        using var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        var g = new BlkGuest(image);
        var (status, data) = g.Read(0, 256 * 1024);
        Assert.Equal(VirtioBlk.StatusOk, status);
        Assert.All(data.AsSpan(0, 65536).ToArray(), x => Assert.Equal(0, x));
        Assert.All(data.AsSpan(65536, 131072).ToArray(), x => Assert.Equal(0xa5, x));
        Assert.All(data.AsSpan(196608).ToArray(), x => Assert.Equal(0, x));
    }

    [Fact]
    public void ReadOnlyDiskOffersRoRefusesWritesWithIoErrAndKeepsServing()
    {
        using var dir = new TempDir();
        var path = dir.File("ro.raw");
        DiskImages.CreateRaw(path, 1 << 20);
        using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true);
        var g = new BlkGuest(image);
        Assert.NotEqual(0UL, g.Driver.Transport.NegotiatedFeatures & VirtioBlk.FeatureRo);
        Assert.Equal(VirtioBlk.StatusIoErr, g.Write(0, Pattern(512, 4)));
        Assert.Equal(VirtioBlk.StatusOk, g.Flush());
        var (status, data) = g.Read(0, 512);
        Assert.Equal(VirtioBlk.StatusOk, status);
        Assert.All(data, x => Assert.Equal(0, x));
        Assert.Equal(0u, g.Driver.Read(VirtioMmioRegister.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        Assert.Equal(1, g.Device.IoErrors);
        Assert.All(File.ReadAllBytes(path), x => Assert.Equal(0, x));
    }

    [Fact]
    public void FlushIsCompletedOnlyAfterFdatasyncReturned()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("f.raw"), 1 << 20);
        using var image = new FlushWatchingImage(DiskImages.Open(dir.File("f.raw"), DiskImageFormat.Raw, readOnly: false));
        var g = new BlkGuest(image);
        image.GuestUsedIdx = () => g.Queue.UsedIdxInRam;
        Assert.Equal(VirtioBlk.StatusOk, g.Write(0, Pattern(4096, 5)));
        Assert.Empty(image.UsedIdxAtFlush); // FLUSH negotiated: writes are write-back
        Assert.Equal(VirtioBlk.StatusOk, g.Flush());
        Assert.Equal([(ushort)1], image.UsedIdxAtFlush); // the flush's own completion was not yet visible
    }

    [Fact]
    public void WithoutTheFlushFeatureEveryWriteIsDurableBeforeItCompletes()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("w.raw"), 1 << 20);
        using var image = new FlushWatchingImage(DiskImages.Open(dir.File("w.raw"), DiskImageFormat.Raw, readOnly: false));
        var g = new BlkGuest(image, refuse: VirtioBlk.FeatureFlush);
        image.GuestUsedIdx = () => g.Queue.UsedIdxInRam;
        g.Write(0, Pattern(512, 6));
        g.Write(8, Pattern(512, 7));
        Assert.Equal([(ushort)0, (ushort)1], image.UsedIdxAtFlush);
    }

    [Fact]
    public void GetIdReturnsTheSerialZeroPadded()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("i.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("i.raw"), DiskImageFormat.Raw, readOnly: false);
        var g = new BlkGuest(image, serial: "vol-42");
        var header = g.Header(VirtioBlk.TypeGetId, 0);
        var id = g.Driver.Alloc(20);
        var status = g.Status();
        g.Queue.Add((header, 16, false), (id, 20, true), (status, 1, true));
        Assert.Equal(VirtioBlk.StatusOk, g.Complete(status, expectLength: 21));
        Assert.Equal("vol-42"u8.ToArray().Concat(new byte[14]).ToArray(), g.Peek(id, 20));
    }

    [Theory]
    [InlineData(2048UL, 512)] // past the end of a 1 MiB disk
    [InlineData(2047UL, 1024)] // straddles the end
    [InlineData(0UL, 100)] // not whole sectors
    [InlineData(ulong.MaxValue, 512)] // sector * 512 would overflow
    public void RequestsThatCannotBeServedGetIoErrAndTheDeviceKeepsServing(ulong sector, int length)
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("e.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("e.raw"), DiskImageFormat.Raw, readOnly: false);
        var g = new BlkGuest(image);
        Assert.Equal(VirtioBlk.StatusIoErr, g.Read(sector, length).Status);
        Assert.Equal(VirtioBlk.StatusIoErr, g.Write(sector, new byte[length]));
        Assert.Equal(VirtioBlk.StatusOk, g.Read(2047, 512).Status);
        Assert.Null(g.Driver.Transport.LastFault);
    }

    [Fact]
    public void UnknownRequestTypesGetUnsupported()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("u.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("u.raw"), DiskImageFormat.Raw, readOnly: false);
        var g = new BlkGuest(image);
        Assert.Equal(VirtioBlk.StatusUnsupported, g.Complete(g.Enqueue(11, 0, outData: new byte[16]))); // DISCARD: not offered
        Assert.Equal(1, g.Device.Unsupported);
    }

    [Fact]
    public void AnyDescriptorLayoutIsServed()
    {
        // VERSION_1 implies any layout: header split across descriptors, data in odd pieces, status sharing a buffer.
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("l.raw"), 1 << 20);
        using var image = DiskImages.Open(dir.File("l.raw"), DiskImageFormat.Raw, readOnly: false);
        var g = new BlkGuest(image);
        var data = Pattern(1024, 8);
        var header = g.Header(VirtioBlk.TypeOut, 4);
        var payload = g.Driver.Alloc(1024);
        g.Poke(payload, data);
        var status = g.Status();
        g.Queue.Add((header, 5, false), (header + 5, 11, false), (payload, 3, false), (payload + 3, 1021, false), (status, 1, true));
        Assert.Equal(VirtioBlk.StatusOk, g.Complete(status, expectLength: 1));

        var readHeader = g.Header(VirtioBlk.TypeIn, 4);
        var tail = g.Driver.Alloc(1025);
        var head = g.Driver.Alloc(7);
        g.Queue.Add((readHeader, 16, false), (head, 7, true), (tail, 1018, true));
        Assert.True(g.Driver.Ram.TryWrite(tail + 1017, new byte[] { 0xff }));
        g.Queue.Submit();
        Assert.True(g.Queue.TryTakeUsed(out _, out var len));
        Assert.Equal(1025u, len);
        Assert.Equal(data, g.Peek(head, 7).Concat(g.Peek(tail, 1017)).ToArray());
        Assert.Equal(VirtioBlk.StatusOk, g.Peek(tail + 1017, 1)[0]);
    }

    [Fact]
    public void RequestWithoutStatusByteNeedsResetWhileAnotherDiskKeepsServing()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("a.raw"), 1 << 20);
        DiskImages.CreateRaw(dir.File("b.raw"), 1 << 20);
        using var imageA = DiskImages.Open(dir.File("a.raw"), DiskImageFormat.Raw, readOnly: false);
        using var imageB = DiskImages.Open(dir.File("b.raw"), DiskImageFormat.Raw, readOnly: false);
        var bad = new BlkGuest(imageA);
        var good = new BlkGuest(imageB);
        var header = bad.Header(VirtioBlk.TypeOut, 0);
        var data = bad.Driver.Alloc(512);
        bad.Queue.Add((header, 16, false), (data, 512, false));
        bad.Queue.Submit();
        Assert.False(bad.Queue.TryTakeUsed(out _, out _));
        var fault = bad.Driver.Transport.LastFault;
        Assert.NotNull(fault);
        Assert.Equal(("virtio-blk vda", 0, VirtioFaultReason.MalformedRequest), (fault.Device, fault.Queue, fault.Reason));
        Assert.Contains("status", fault.Detail);
        Assert.NotEqual(0u, bad.Driver.Read(VirtioMmioRegister.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        Assert.Equal(VirtioBlk.StatusOk, good.Write(0, Pattern(512, 9)));

        // A reset and a fresh bring-up serve again.
        bad.Queue = bad.Driver.Bringup(Device.VirtioDeviceType.Block, 1)[0];
        Assert.Equal(VirtioBlk.StatusOk, bad.Write(0, Pattern(512, 10)));
    }
}
