namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// Copies to and from a guest's memory at an address it passed in a hypercall (translated the
/// way the calling vCPU would see it). Fails, rather than throws, on any address the guest does
/// not own: the hypercall then returns -EFAULT.
/// </summary>
public interface IGuestMemoryAccess
{
    bool TryCopyFromGuest(ulong address, Span<byte> destination);

    bool TryCopyToGuest(ulong address, ReadOnlySpan<byte> source);
}
