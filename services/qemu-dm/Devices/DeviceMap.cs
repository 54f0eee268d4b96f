namespace Disagg.QemuDm.Devices;

/// <summary>qemu-dm's dispatch: an ioreq goes to the window that holds it. Reads nothing holds answer all-ones, as an open bus.</summary>
internal sealed class DeviceMap(IReadOnlyList<IMmioWindow> windows)
{
    public ulong Read(ulong address, int size)
    {
        var w = Find(address, size, out var offset);
        return w?.Read(offset, size) ?? (size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1);
    }

    public void Write(ulong address, int size, ulong value) => Find(address, size, out var offset)?.Write(offset, size, value);

    private IMmioWindow? Find(ulong address, int size, out ulong offset)
    {
        foreach (var w in windows)
        {
            offset = address - w.Base;
            if (offset < w.Size && offset + (ulong)size <= w.Size)
            {
                return w;
            }
        }

        offset = 0;
        return null;
    }
}
