using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>struct gnttab_copy_ptr: a grant ref or a guest frame (xen_pfn_t, u64), a domain and an offset in the page.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct GrantCopyPtr
{
    /// <summary>Grant ref (when the matching *Gref flag is set) or guest frame number.</summary>
    [FieldOffset(0)] public ulong RefOrFrame;
    [FieldOffset(8)] public ushort DomId;
    [FieldOffset(10)] public ushort Offset;
}
