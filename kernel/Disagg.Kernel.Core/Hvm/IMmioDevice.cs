namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// A device model behind a window of guest-physical addresses. Offsets are from the window's base;
/// sizes are 1, 2, 4 or 8 bytes, naturally aligned (the CPU faults misaligned MMIO before it gets
/// here). False: the device refuses the access (a size it does not decode), and the guest gets an
/// access fault. Called on the accessing vCPU's pCPU thread; a device shared by several vCPUs
/// synchronises itself.
/// </summary>
public interface IMmioDevice
{
    bool TryRead(ulong offset, int size, out ulong value);

    bool TryWrite(ulong offset, int size, ulong value);
}
