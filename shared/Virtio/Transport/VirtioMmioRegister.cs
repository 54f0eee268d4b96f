namespace Disagg.Virtio.Transport;

/// <summary>
/// Register offsets of the virtio-mmio transport, version 2 (virtio 1.x §4.2.2, Table "MMIO Device
/// Register Layout"; QEMU's hw/virtio/virtio-mmio.c answers the same). All are 32-bit; the device
/// configuration space starts at <see cref="Config"/>.
/// </summary>
public static class VirtioMmioRegister
{
    public const uint MagicValue = 0x000;
    public const uint Version = 0x004;
    public const uint DeviceId = 0x008;
    public const uint VendorId = 0x00c;
    public const uint DeviceFeatures = 0x010;
    public const uint DeviceFeaturesSel = 0x014;
    public const uint DriverFeatures = 0x020;
    public const uint DriverFeaturesSel = 0x024;
    public const uint QueueSel = 0x030;
    public const uint QueueNumMax = 0x034;
    public const uint QueueNum = 0x038;
    public const uint QueueReady = 0x044;
    public const uint QueueNotify = 0x050;
    public const uint InterruptStatus = 0x060;
    public const uint InterruptAck = 0x064;
    public const uint Status = 0x070;
    public const uint QueueDescLow = 0x080;
    public const uint QueueDescHigh = 0x084;
    public const uint QueueDriverLow = 0x090;
    public const uint QueueDriverHigh = 0x094;
    public const uint QueueDeviceLow = 0x0a0;
    public const uint QueueDeviceHigh = 0x0a4;
    public const uint ShmSel = 0x0ac;
    public const uint ShmLenLow = 0x0b0;
    public const uint ShmLenHigh = 0x0b4;
    public const uint ShmBaseLow = 0x0b8;
    public const uint ShmBaseHigh = 0x0bc;
    public const uint ConfigGeneration = 0x0fc;
    public const uint Config = 0x100;

    /// <summary>The window one device occupies (QEMU virt: slots 0x1000 apart).</summary>
    public const uint WindowSize = 0x1000;

    /// <summary>"virt" read as a little-endian u32.</summary>
    public const uint Magic = 0x74726976;

    /// <summary>The non-legacy transport.</summary>
    public const uint TransportVersion = 2;

    /// <summary>QEMU's vendor id ("QEMU"): software written for the virt board sees what it knows.</summary>
    public const uint QemuVendorId = 0x554d4551;

    /// <summary>InterruptStatus bit 0: a queue has new used buffers.</summary>
    public const uint InterruptUsedBuffer = 1;

    /// <summary>InterruptStatus bit 1: the configuration changed (also: DEVICE_NEEDS_RESET was set).</summary>
    public const uint InterruptConfigChange = 2;
}
