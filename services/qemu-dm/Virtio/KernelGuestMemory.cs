using Disagg.Control;
using Disagg.QemuDm.Devices;
using Disagg.Virtio.Memory;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// The guest memory virtio queues point at, reached through the kernel (ReadGuestMemory/WriteGuestMemory,
/// each a bounded copy): qemu-dm never holds the domain's RAM. <see cref="IsRam"/> comes from the RAM range
/// the kernel reported when the ioreq page was mapped; the kernel checks every copy again, and one it
/// refuses (the range is not RAM, the domain is going away) is a clean <c>false</c> for the device, which
/// faults the queue. A lost kernel connection or a kernel that does not answer is not the guest's doing:
/// it propagates and qemu-dm exits for its supervisor. Copies are ordered: each is answered before the next.
/// </summary>
internal sealed class KernelGuestMemory(IDevicePlatform platform, ulong ramBase, ulong ramBytes) : IGuestMemory
{
    public bool IsRam(ulong address, ulong length)
    {
        var end = address + length;
        return end >= address && address >= ramBase && end <= ramBase + ramBytes;
    }

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!IsRam(address, (ulong)destination.Length))
        {
            return false;
        }

        try
        {
            platform.ReadGuest(address, destination);
            return true;
        }
        catch (KernelRequestException)
        {
            return false;
        }
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!IsRam(address, (ulong)source.Length))
        {
            return false;
        }

        try
        {
            platform.WriteGuest(address, source);
            return true;
        }
        catch (KernelRequestException)
        {
            return false;
        }
    }
}
