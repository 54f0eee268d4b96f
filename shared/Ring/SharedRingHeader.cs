using System.Runtime.InteropServices;

namespace Disagg.Ring;

/// <summary>
/// The shared part of a Xen ring page (io/ring.h, spec §1): four u32 indices, 48 bytes of
/// private/padding zeroed at init, then the slots at offset 64. Indices are free-running;
/// slot = index &amp; (count - 1).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
public struct SharedRingHeader
{
    public const int Size = 64;

    [FieldOffset(0)] public uint ReqProd;
    [FieldOffset(4)] public uint ReqEvent;
    [FieldOffset(8)] public uint RspProd;
    [FieldOffset(12)] public uint RspEvent;
}
