namespace Disagg.Virtio.Memory;

/// <summary>
/// The guest-physical memory a device model may reach: what virtqueues point at. qemu-dm implements it
/// by copying through the kernel (ARCHITECTURE §1: a device model never maps its target's RAM whole),
/// so every call is a bounded copy and nothing here assumes the RAM is mapped.
/// </summary>
/// <remarks>
/// Contract for implementations:
/// <list type="bullet">
/// <item>An address range that is not entirely guest RAM fails cleanly: <c>false</c>, nothing copied
/// (a partial copy is allowed only for <see cref="TryRead"/>, whose destination is ours), no exception.
/// Ranges whose end overflows 64 bits are not RAM.</item>
/// <item>Calls take effect in program order, as the guest sees them: a write that returns is visible
/// to the guest before any later call's effect (the split ring's "data, then used.idx, then read
/// used_event" ordering, virtio 1.x §2.7.13, relies on it). A copy through the kernel is ordered; an
/// implementation over a shared mapping needs a full fence per call.</item>
/// <item>One device calls it from one thread at a time.</item>
/// </list>
/// </remarks>
public interface IGuestMemory
{
    /// <summary>True when every byte of [address, address + length) is guest RAM (length 0: address is RAM or the end of it).</summary>
    bool IsRam(ulong address, ulong length);

    /// <summary>Copies guest bytes at <paramref name="address"/> into <paramref name="destination"/>.</summary>
    bool TryRead(ulong address, Span<byte> destination);

    /// <summary>Copies <paramref name="source"/> to guest bytes at <paramref name="address"/>.</summary>
    bool TryWrite(ulong address, ReadOnlySpan<byte> source);
}
