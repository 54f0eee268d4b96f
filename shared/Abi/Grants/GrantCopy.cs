using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>
/// struct gnttab_copy (grant_table.h): copy Len bytes between two (domain, grant ref or frame,
/// offset) places. The hypervisor checks both sides; a copy may not cross a page boundary.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct GrantCopy
{
    /// <summary>Flags: the source is a grant ref.</summary>
    public const ushort SourceGref = 1 << 0;
    /// <summary>Flags: the destination is a grant ref.</summary>
    public const ushort DestGref = 1 << 1;

    [FieldOffset(0)] public GrantCopyPtr Source;
    [FieldOffset(16)] public GrantCopyPtr Dest;
    [FieldOffset(32)] public ushort Len;
    [FieldOffset(34)] public ushort Flags;
    /// <summary>OUT: a <see cref="GrantStatus"/>.</summary>
    [FieldOffset(36)] public short Status;
}
