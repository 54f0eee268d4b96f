namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// A virtio-mmio slot with no device behind it (spec/hvm-platform.md: "An empty virtio slot answers
/// MagicValue, Version and DeviceID 0"): a driver probing the slot finds the magic, version 2 and
/// device id 0, and moves on. Every other register reads 0 and writes are ignored, as QEMU's empty
/// slots do. 32-bit accesses only (the transport's rule); others fault.
/// </summary>
public sealed class EmptyVirtioSlot : IMmioDevice
{
    private const uint MagicValue = 0x7472_6976; // "virt"

    public static EmptyVirtioSlot Instance { get; } = new();

    public bool TryRead(ulong offset, int size, out ulong value)
    {
        value = offset switch
        {
            0x000 => MagicValue,
            0x004 => 2, // Version: virtio-mmio 2 (virtio 1.x)
            _ => 0, // DeviceID 0: no device
        };
        return size == 4 && (offset & 3) == 0;
    }

    public bool TryWrite(ulong offset, int size, ulong value) => size == 4 && (offset & 3) == 0;
}
