using Disagg.QemuDm.Hosting;
using Disagg.Virtio.Memory;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// The virtio devices' guest memory: ring accesses through the ring pages qemu-dm holds mapped
/// (<see cref="GuestRingPages"/>), everything else through the kernel (<see cref="KernelGuestMemory"/>).
/// <para>
/// Order, as the guest sees it (IGuestMemory's contract): writes through the kernel are held and sent with the next
/// request (<see cref="KernelDevicePlatform"/>), so a ring write made while some are held is held behind them
/// (<see cref="KernelDevicePlatform.WriteMapped"/>): a used entry never shows before the data and status it completes.
/// A ring write may show later than a later buffer write; that buffer is the device's until its used entry shows, so
/// the guest cannot tell. A read of a field the driver writes to answer one of the device's (used_event, avail.idx,
/// avail.flags) first sends what is held; other ring reads (avail entries, descriptors) need not. Full fences around
/// each mapped access, as the contract asks of an implementation over a shared mapping.
/// </para>
/// </summary>
internal sealed unsafe class MappedGuestMemory(KernelGuestMemory kernel, GuestRingPages pages, KernelDevicePlatform platform) : IGuestMemory
{
    public bool IsRam(ulong address, ulong length) => kernel.IsRam(address, length);

    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (!pages.Covers(address, destination.Length))
        {
            return kernel.TryRead(address, destination);
        }

        if (platform.HoldsWrites && pages.IsOrderingPoint(address, destination.Length))
        {
            platform.FlushGuestWrites();
        }

        Interlocked.MemoryBarrier();
        platform.CountMappedCopy();
        for (var done = 0; done < destination.Length;)
        {
            var a = address + (ulong)done;
            var n = Math.Min(destination.Length - done, 4096 - (int)(a & 0xFFF));
            pages.TryLocate(a, n, out var host);
            new ReadOnlySpan<byte>(host, n).CopyTo(destination[done..]);
            done += n;
        }

        return true;
    }

    public bool TryWrite(ulong address, ReadOnlySpan<byte> source)
    {
        if (!pages.Covers(address, source.Length))
        {
            return kernel.TryWrite(address, source);
        }

        platform.CountMappedCopy();
        for (var done = 0; done < source.Length;)
        {
            var a = address + (ulong)done;
            var n = Math.Min(source.Length - done, 4096 - (int)(a & 0xFFF));
            pages.TryLocate(a, n, out var host);
            platform.WriteMapped(host, source.Slice(done, n));
            done += n;
        }

        return true;
    }
}
