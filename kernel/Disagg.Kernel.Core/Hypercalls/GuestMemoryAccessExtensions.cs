using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>Typed reads and writes of hypercall argument structs (layouts from Disagg.Abi).</summary>
public static class GuestMemoryAccessExtensions
{
    public static bool TryRead<T>(this IGuestMemoryAccess memory, ulong address, out T value)
        where T : unmanaged
    {
        value = default;
        return memory.TryCopyFromGuest(address, MemoryMarshal.AsBytes(new Span<T>(ref value)));
    }

    public static bool TryWrite<T>(this IGuestMemoryAccess memory, ulong address, in T value)
        where T : unmanaged =>
        memory.TryCopyToGuest(address, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    /// <summary>Size of T as the guest sees it, for stepping through arrays of argument structs.</summary>
    public static int SizeOf<T>()
        where T : unmanaged => Unsafe.SizeOf<T>();
}
