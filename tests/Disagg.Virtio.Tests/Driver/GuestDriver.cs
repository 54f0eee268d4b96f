using Disagg.Virtio.Device;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Transport;
using R = Disagg.Virtio.Transport.VirtioMmioRegister;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>
/// A guest driver for one virtio-mmio device, doing what Linux does in the order it does it
/// (drivers/virtio/virtio_mmio.c vm_probe, vm_get_features, vm_finalize_features, vm_setup_vq, and
/// virtio.c's status steps), over a transport and guest RAM of its own.
/// </summary>
internal sealed class GuestDriver
{
    public const ulong RamBase = 0x8000_0000;

    private ulong _next;

    public GuestDriver(Func<IGuestMemory, IInterruptLine, VirtioMmioTransport> build, int ramBytes = 4 << 20)
    {
        Ram = new RamGuestMemory(RamBase, ramBytes);
        _next = RamBase + 0x1000;
        Transport = build(Ram, Wire);
    }

    /// <summary>A driver over RAM that already holds a guest's state (after a device-model restart).</summary>
    public GuestDriver(RamGuestMemory ram, Func<IGuestMemory, IInterruptLine, VirtioMmioTransport> build, ulong next)
    {
        Ram = ram;
        _next = next;
        Transport = build(Ram, Wire);
    }

    public RamGuestMemory Ram { get; }

    public InterruptWire Wire { get; } = new();

    public VirtioMmioTransport Transport { get; }

    public ulong NextFree => _next;

    public uint Read(uint offset)
    {
        Assert.True(Transport.TryRead(offset, 4, out var value), $"read of 0x{offset:x} refused");
        return value;
    }

    public void Write(uint offset, uint value) => Assert.True(Transport.TryWrite(offset, 4, value), $"write of 0x{offset:x} refused");

    public ulong Alloc(uint length, uint align = 16)
    {
        _next = (_next + align - 1) & ~((ulong)align - 1);
        var address = _next;
        _next += Math.Max(length, 1);
        Assert.True(Ram.IsRam(address, length), "test RAM exhausted");
        return address;
    }

    /// <summary>vm_probe and virtio_dev_probe up to the device's features.</summary>
    public ulong Probe(VirtioDeviceType expected)
    {
        Assert.Equal(R.Magic, Read(R.MagicValue));
        Assert.Equal(2u, Read(R.Version));
        Assert.Equal((uint)expected, Read(R.DeviceId));
        Read(R.VendorId);
        Write(R.Status, 0); // virtio_reset_device
        Assert.Equal(0u, Read(R.Status));
        AddStatus(DeviceStatus.Acknowledge);
        AddStatus(DeviceStatus.Driver);
        Write(R.DeviceFeaturesSel, 1);
        var features = (ulong)Read(R.DeviceFeatures) << 32;
        Write(R.DeviceFeaturesSel, 0);
        return features | Read(R.DeviceFeatures);
    }

    /// <summary>vm_finalize_features and the FEATURES_OK handshake; true when the device kept FEATURES_OK.</summary>
    public bool Negotiate(ulong features)
    {
        Write(R.DriverFeaturesSel, 1);
        Write(R.DriverFeatures, (uint)(features >> 32));
        Write(R.DriverFeaturesSel, 0);
        Write(R.DriverFeatures, (uint)features);
        AddStatus(DeviceStatus.FeaturesOk);
        return (Read(R.Status) & (uint)DeviceStatus.FeaturesOk) != 0;
    }

    /// <summary>vm_setup_vq: the queue at QueueNumMax (or <paramref name="size"/>), rings in guest RAM, QueueReady 1.</summary>
    public GuestQueue SetupQueue(int index, ushort? size = null)
    {
        Write(R.QueueSel, (uint)index);
        Assert.Equal(0u, Read(R.QueueReady));
        var max = (ushort)Read(R.QueueNumMax);
        Assert.NotEqual(0, max);
        var num = size ?? max;
        var desc = Alloc((uint)VirtqLayout.DescTableBytes(num), 16);
        var avail = Alloc((uint)VirtqLayout.AvailBytes(num), 2);
        var used = Alloc((uint)VirtqLayout.UsedBytes(num), 4);
        Write(R.QueueNum, num);
        Write(R.QueueDescLow, (uint)desc);
        Write(R.QueueDescHigh, (uint)(desc >> 32));
        Write(R.QueueDriverLow, (uint)avail);
        Write(R.QueueDriverHigh, (uint)(avail >> 32));
        Write(R.QueueDeviceLow, (uint)used);
        Write(R.QueueDeviceHigh, (uint)(used >> 32));
        Write(R.QueueReady, 1);
        Assert.Equal(1u, Read(R.QueueReady));
        return new GuestQueue(this, Ram, index, num, desc, avail, used);
    }

    /// <summary>The guest's queue, its rings and state untouched, now notifying this device model (after a restart).</summary>
    public GuestQueue Reattach(GuestQueue queue) => queue.Rebind(this);

    public void DriverOk() => AddStatus(DeviceStatus.DriverOk);

    /// <summary>Probe, accept every offered feature, set up every queue, DRIVER_OK.</summary>
    public GuestQueue[] Bringup(VirtioDeviceType type, int queues, ulong refuse = 0)
    {
        var offered = Probe(type);
        Assert.True(Negotiate(offered & ~refuse));
        var list = new GuestQueue[queues];
        for (var i = 0; i < queues; i++)
        {
            list[i] = SetupQueue(i);
        }

        DriverOk();
        return list;
    }

    /// <summary>vm_interrupt: read InterruptStatus, acknowledge it.</summary>
    public uint TakeInterrupt()
    {
        var status = Read(R.InterruptStatus);
        Write(R.InterruptAck, status);
        return status;
    }

    /// <summary>virtio_cread of a 1, 2, 4 or 8-byte field, as vm_get does on version 2 (8 bytes: two 32-bit reads).</summary>
    public ulong ReadConfig(uint offset, int size)
    {
        if (size == 8)
        {
            return ReadConfig(offset, 4) | (ReadConfig(offset + 4, 4) << 32);
        }

        Assert.True(Transport.TryRead(R.Config + offset, size, out var value));
        return value;
    }

    private void AddStatus(DeviceStatus bit) => Write(R.Status, Read(R.Status) | (uint)bit);
}
