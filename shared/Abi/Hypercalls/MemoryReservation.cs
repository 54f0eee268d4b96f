using System.Runtime.InteropServices;

namespace Disagg.Abi.Hypercalls;

/// <summary>struct xen_memory_reservation (memory.h); guest handles are 64-bit on every width.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct MemoryReservation
{
    /// <summary>Guest address of an array of frame numbers (u64 each).</summary>
    [FieldOffset(0)] public ulong ExtentStart;
    [FieldOffset(8)] public ulong NrExtents;
    [FieldOffset(16)] public uint ExtentOrder;
    [FieldOffset(20)] public uint MemFlags;
    [FieldOffset(24)] public ushort DomId;
}
