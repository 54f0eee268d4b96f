namespace Disagg.QemuDm.Devices;

/// <summary>
/// One device qemu-dm emulates, at a window of guest-physical addresses (the kernel forwards exactly these
/// windows through the ioreq page). Offsets are from the window's base; sizes 1, 2, 4 or 8, naturally aligned
/// (the CPU faults misaligned accesses, the kernel's bus faults ones that run past a window). A virtio-mmio
/// transport plugs in as one more window. Called on qemu-dm's one ioreq thread.
/// </summary>
internal interface IMmioWindow
{
    ulong Base { get; }

    ulong Size { get; }

    ulong Read(ulong offset, int size);

    void Write(ulong offset, int size, ulong value);
}
