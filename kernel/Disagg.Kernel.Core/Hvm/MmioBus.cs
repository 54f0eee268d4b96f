namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// An HVM domain's MMIO dispatch: every load or store outside RAM lands here (the CPU's MMIO hook
/// through the domain's P2M) and goes to the device whose window holds it. The kernel's own devices
/// (the PLIC, empty virtio slots) answer at once; an address no window holds is an access fault for
/// the guest. The windows are fixed when the domain is built, so lookups take no lock.
/// The device-model path (ioreq, issue 13) plugs in as one more window whose device forwards the
/// access to qemu-dm; it needs the CPU to park the vCPU until the answer arrives (see docs/HVM.md).
/// </summary>
public sealed class MmioBus
{
    private readonly List<(ulong Base, ulong Size, IMmioDevice Device)> _windows = [];
    private (ulong Base, ulong Size, IMmioDevice Device)[] _lookup = [];

    /// <summary>Adds a window; overlapping windows are our own bug.</summary>
    public void Map(ulong baseAddress, ulong size, IMmioDevice device)
    {
        if (size == 0 || baseAddress + size < baseAddress)
        {
            throw new ArgumentException($"MMIO window 0x{baseAddress:x}+0x{size:x} is empty or wraps");
        }

        foreach (var w in _windows)
        {
            if (baseAddress < w.Base + w.Size && w.Base < baseAddress + size)
            {
                throw new ArgumentException($"MMIO window 0x{baseAddress:x}+0x{size:x} overlaps 0x{w.Base:x}+0x{w.Size:x}");
            }
        }

        _windows.Add((baseAddress, size, device));
        _lookup = [.. _windows];
    }

    public bool TryRead(ulong address, int size, out ulong value)
    {
        foreach (var w in _lookup)
        {
            var offset = address - w.Base;
            if (offset < w.Size && offset + (ulong)size <= w.Size)
            {
                return w.Device.TryRead(offset, size, out value);
            }
        }

        value = 0;
        return false;
    }

    public bool TryWrite(ulong address, int size, ulong value)
    {
        foreach (var w in _lookup)
        {
            var offset = address - w.Base;
            if (offset < w.Size && offset + (ulong)size <= w.Size)
            {
                return w.Device.TryWrite(offset, size, value);
            }
        }

        return false;
    }
}
