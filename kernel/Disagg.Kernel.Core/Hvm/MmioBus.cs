using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// An HVM domain's MMIO dispatch: every load or store outside RAM lands here (the CPU's MMIO hook
/// through the domain's P2M) and goes to the window that holds it. The kernel's own devices (the PLIC,
/// empty virtio slots) answer at once; a device-model window (the UART, the test device: Xen's ioreq
/// server ranges) answers <see cref="MmioResult.Pending"/>, the hart parks the access and its vCPU hands
/// it to the device model (`Ioreq/`). An address no window holds, or an access that runs past a window's
/// end, is an access fault for the guest. The windows are fixed when the domain is built, so lookups
/// take no lock.
/// </summary>
public sealed class MmioBus
{
    private readonly List<(ulong Base, ulong Size, IMmioDevice? Device)> _windows = [];
    private (ulong Base, ulong Size, IMmioDevice? Device)[] _lookup = [];

    /// <summary>Adds a window the kernel answers; overlapping windows are our own bug.</summary>
    public void Map(ulong baseAddress, ulong size, IMmioDevice device) => Add(baseAddress, size, device);

    /// <summary>Adds a window the domain's device model answers (through the ioreq page).</summary>
    public void MapDeviceModel(ulong baseAddress, ulong size) => Add(baseAddress, size, null);

    /// <summary>
    /// Hands the kernel's window at <paramref name="baseAddress"/> to the device model (a device model was
    /// named: it answers the virtio-mmio slots, empty ones too). The lookup array is replaced whole, so a
    /// vCPU looking up concurrently sees the old window or the new one.
    /// </summary>
    public void HandToDeviceModel(ulong baseAddress, ulong size)
    {
        var i = _windows.FindIndex(w => w.Base == baseAddress && w.Size == size);
        if (i < 0)
        {
            throw new ArgumentException($"no MMIO window 0x{baseAddress:x}+0x{size:x} to hand to the device model");
        }

        _windows[i] = (baseAddress, size, null);
        Volatile.Write(ref _lookup, [.. _windows]);
    }

    /// <summary>True when a device-model window holds [address, address + size).</summary>
    public bool IsDeviceModel(ulong address, int size) => Find(address, size, out var w) && w.Device == null;

    public MmioResult Read(ulong address, int size, out ulong value)
    {
        value = 0;
        if (!Find(address, size, out var w))
        {
            return MmioResult.Fault;
        }

        if (w.Device is not { } device)
        {
            return MmioResult.Pending;
        }

        return device.TryRead(address - w.Base, size, out value) ? MmioResult.Done : MmioResult.Fault;
    }

    public MmioResult Write(ulong address, int size, ulong value)
    {
        if (!Find(address, size, out var w))
        {
            return MmioResult.Fault;
        }

        if (w.Device is not { } device)
        {
            return MmioResult.Pending;
        }

        return device.TryWrite(address - w.Base, size, value) ? MmioResult.Done : MmioResult.Fault;
    }

    private bool Find(ulong address, int size, out (ulong Base, ulong Size, IMmioDevice? Device) window)
    {
        foreach (var w in Volatile.Read(ref _lookup))
        {
            var offset = address - w.Base;
            if (offset < w.Size && offset + (ulong)size <= w.Size)
            {
                window = w;
                return true;
            }
        }

        window = default;
        return false;
    }

    private void Add(ulong baseAddress, ulong size, IMmioDevice? device)
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
}
