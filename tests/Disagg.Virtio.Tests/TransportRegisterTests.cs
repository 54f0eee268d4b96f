using Disagg.DiskImage;
using Disagg.Virtio.Blk;
using Disagg.Virtio.Device;
using Disagg.Virtio.Net;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;
using R = Disagg.Virtio.Transport.VirtioMmioRegister;

namespace Disagg.Virtio.Tests;

/// <summary>The register file driven as Linux's virtio_mmio driver drives it, and the accesses it must refuse.</summary>
public sealed class TransportRegisterTests
{
    private static GuestDriver Rng() => new((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("virtio-rng"), ram, irq));

    [Fact]
    public void LinuxProbeNegotiatesVersion1AndSetsUpTheQueue()
    {
        var d = Rng();
        Assert.Equal(R.QemuVendorId, d.Read(R.VendorId));
        var offered = d.Probe(VirtioDeviceType.Entropy);
        Assert.Equal(VirtioFeature.Version1 | VirtioFeature.EventIdx | VirtioFeature.IndirectDesc, offered);
        Assert.Equal((uint)(DeviceStatus.Acknowledge | DeviceStatus.Driver), d.Read(R.Status));
        Assert.True(d.Negotiate(VirtioFeature.Version1 | VirtioFeature.EventIdx));
        var q = d.SetupQueue(0);
        Assert.Equal(VirtioRngDevice.QueueSize, q.Size);
        Assert.Equal((uint)q.Desc, d.Read(R.QueueDescLow));
        Assert.Equal((uint)(q.Used >> 32), d.Read(R.QueueDeviceHigh));
        d.DriverOk();
        Assert.Equal((uint)(DeviceStatus.Acknowledge | DeviceStatus.Driver | DeviceStatus.FeaturesOk | DeviceStatus.DriverOk), d.Read(R.Status));
        Assert.Equal(VirtioFeature.Version1 | VirtioFeature.EventIdx, d.Transport.NegotiatedFeatures);

        // A second queue does not exist: QueueNumMax 0 is how Linux's vm_setup_vq learns that.
        d.Write(R.QueueSel, 1);
        Assert.Equal(0u, d.Read(R.QueueNumMax));
        Assert.Equal(0u, d.Read(R.QueueReady));
    }

    [Fact]
    public void DriverWithoutVersion1IsRefusedFeaturesOk()
    {
        var d = Rng();
        d.Probe(VirtioDeviceType.Entropy);
        Assert.False(d.Negotiate(VirtioFeature.EventIdx));
        Assert.Equal(0UL, d.Transport.NegotiatedFeatures);
    }

    [Fact]
    public void FeaturesTheDeviceDidNotOfferAreRefused()
    {
        var d = Rng();
        d.Probe(VirtioDeviceType.Entropy);
        Assert.False(d.Negotiate(VirtioFeature.Version1 | (1UL << 35)));
    }

    [Fact]
    public void DriverFeaturesAreFixedOnceFeaturesOk()
    {
        var d = Rng();
        d.Probe(VirtioDeviceType.Entropy);
        Assert.True(d.Negotiate(VirtioFeature.Version1));
        d.Write(R.DriverFeaturesSel, 0);
        d.Write(R.DriverFeatures, (uint)VirtioFeature.EventIdx);
        Assert.Equal(VirtioFeature.Version1, d.Transport.NegotiatedFeatures);
    }

    [Fact]
    public void RegistersTakeOnlyAligned32BitAccesses()
    {
        var d = Rng();
        Assert.False(d.Transport.TryRead(R.MagicValue, 2, out var v));
        Assert.Equal(0u, v);
        Assert.False(d.Transport.TryRead(R.MagicValue + 1, 4, out _));
        Assert.False(d.Transport.TryRead(R.Status, 8, out _));
        Assert.False(d.Transport.TryWrite(R.Status, 1, 1));
        Assert.Equal(0u, d.Read(R.Status));
        Assert.Equal(4, d.Transport.InvalidAccesses);
    }

    [Fact]
    public void WriteOnlyRegistersReadZeroAndReadOnlyOnesIgnoreWrites()
    {
        var d = Rng();
        d.Write(R.QueueSel, 0);
        d.Write(R.QueueNum, 16);
        d.Write(R.DriverFeaturesSel, 1);
        Assert.Equal(0u, d.Read(R.QueueSel));
        Assert.Equal(0u, d.Read(R.QueueNum));
        Assert.Equal(0u, d.Read(R.DriverFeaturesSel));
        Assert.Equal(0u, d.Read(R.QueueNotify));
        Assert.Equal(0u, d.Read(R.InterruptAck));
        d.Write(R.MagicValue, 0);
        d.Write(R.DeviceId, 7);
        Assert.Equal(R.Magic, d.Read(R.MagicValue));
        Assert.Equal((uint)VirtioDeviceType.Entropy, d.Read(R.DeviceId));
    }

    [Fact]
    public void NoSharedMemoryRegionsReadAsAllOnesLength()
    {
        var d = Rng();
        d.Write(R.ShmSel, 0);
        Assert.Equal(uint.MaxValue, d.Read(R.ShmLenLow));
        Assert.Equal(uint.MaxValue, d.Read(R.ShmLenHigh));
    }

    [Fact]
    public void ResetClearsStatusFeaturesQueuesAndInterrupt()
    {
        var d = Rng();
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        var buffer = d.Alloc(32);
        q.Add((buffer, 32, true));
        q.Submit();
        Assert.True(d.Wire.Asserted);
        d.Write(R.Status, 0);
        Assert.False(d.Wire.Asserted);
        Assert.Equal(0u, d.Read(R.Status));
        Assert.Equal(0u, d.Read(R.InterruptStatus));
        Assert.Equal(0UL, d.Transport.NegotiatedFeatures);
        d.Write(R.QueueSel, 0);
        Assert.Equal(0u, d.Read(R.QueueReady));
        Assert.Equal(0u, d.Read(R.QueueDescLow));
    }

    [Fact]
    public void InterruptLineFollowsInterruptStatusUntilAcknowledged()
    {
        var d = Rng();
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        q.Add((d.Alloc(16), 16, true));
        q.Submit();
        Assert.True(d.Wire.Asserted);
        Assert.Equal(R.InterruptUsedBuffer, d.Read(R.InterruptStatus));
        Assert.Equal(R.InterruptUsedBuffer, d.TakeInterrupt());
        Assert.False(d.Wire.Asserted);
        Assert.True(q.TryTakeUsed(out _, out var len));
        Assert.Equal(16u, len);
    }

    [Fact]
    public void QueueSetupIsIgnoredWhileTheQueueIsReady()
    {
        var d = Rng();
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        d.Write(R.QueueSel, 0);
        d.Write(R.QueueDescLow, 0x1234_0000);
        d.Write(R.QueueNum, 2);
        Assert.Equal((uint)q.Desc, d.Read(R.QueueDescLow));
        Assert.Equal(q.Size, d.Transport.Queue(0).Size);
    }

    [Fact]
    public void QueueSizeThatIsNotAPowerOfTwoNeedsReset()
    {
        var d = Rng();
        d.Probe(VirtioDeviceType.Entropy);
        d.Negotiate(VirtioFeature.Version1);
        d.Write(R.QueueSel, 0);
        d.Write(R.QueueNum, 24);
        d.Write(R.QueueReady, 1);
        Assert.Equal(VirtioFaultReason.BadQueueSetup, d.Transport.LastFault?.Reason);
        Assert.NotEqual(0u, d.Read(R.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        d.Write(R.Status, 0);
        Assert.Null(d.Transport.LastFault);
        Assert.Equal(0u, d.Read(R.Status));
    }

    [Fact]
    public void QueueReadyZeroStopsTheQueueAndReadsBackZero()
    {
        var d = Rng();
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        d.Write(R.QueueSel, 0);
        d.Write(R.QueueReady, 0);
        Assert.Equal(0u, d.Read(R.QueueReady));
        q.Add((d.Alloc(16), 16, true));
        q.Submit();
        Assert.False(q.TryTakeUsed(out _, out _));
    }

    [Fact]
    public void NothingIsServedBeforeDriverOk()
    {
        var d = Rng();
        d.Probe(VirtioDeviceType.Entropy);
        d.Negotiate(VirtioFeature.Version1);
        var q = d.SetupQueue(0);
        q.Add((d.Alloc(16), 16, true));
        q.Submit();
        Assert.False(q.TryTakeUsed(out _, out _));
        d.DriverOk();
        q.Kick();
        Assert.True(q.TryTakeUsed(out _, out _));
    }

    [Fact]
    public void BlockConfigReadsCapacityAsTwoWordsAndSegMaxAndBlkSize()
    {
        using var dir = new TempDir();
        DiskImages.CreateRaw(dir.File("d.raw"), 3 << 20);
        using var image = DiskImages.Open(dir.File("d.raw"), DiskImageFormat.Raw, readOnly: false);
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioBlkDevice("vda", image, "s"), ram, irq));
        var features = d.Probe(VirtioDeviceType.Block);
        Assert.NotEqual(0UL, features & VirtioBlk.FeatureFlush);
        Assert.Equal(0UL, features & VirtioBlk.FeatureRo);
        var generation = d.Read(R.ConfigGeneration);
        Assert.Equal((ulong)(3 << 20) / 512, d.ReadConfig(VirtioBlk.ConfigCapacity, 8));
        Assert.Equal(VirtioBlkDevice.SegMax, d.ReadConfig(VirtioBlk.ConfigSegMax, 4));
        Assert.Equal(512UL, d.ReadConfig(VirtioBlk.ConfigBlkSize, 4));
        Assert.Equal(generation, d.Read(R.ConfigGeneration));
        Assert.Equal(0UL, d.ReadConfig(0x200, 4)); // past the config: zeros
        Assert.False(d.Transport.TryRead(R.Config + 1, 2, out _)); // misaligned
        Assert.False(d.Transport.TryRead(R.Config, 8, out _));
    }

    [Fact]
    public void NetConfigHasTheMacByteByByteAndLinkStatus()
    {
        byte[] mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
        var device = new VirtioNetDevice("eth0", mac, new FramePort());
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(device, ram, irq));
        d.Bringup(VirtioDeviceType.Network, 2);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(mac[i], (byte)d.ReadConfig((uint)i, 1));
        }

        Assert.Equal(VirtioNet.StatusLinkUp, (ushort)d.ReadConfig(VirtioNet.ConfigStatus, 2));
        var generation = d.Read(R.ConfigGeneration);
        device.SetLink(false);
        Assert.Equal(0UL, d.ReadConfig(VirtioNet.ConfigStatus, 2));
        Assert.NotEqual(generation, d.Read(R.ConfigGeneration));
        Assert.Equal(R.InterruptConfigChange, d.TakeInterrupt());
    }
}
