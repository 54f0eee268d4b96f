using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>
/// struct grant_entry_v1 (grant_table.h): 8 bytes, 512 per page. The granting guest writes
/// DomId and Frame, then Flags last (with a write barrier), so a reader that sees a valid
/// type sees the rest. The hypervisor sets Reading/Writing while it uses the grant.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct GrantEntryV1
{
    public const int PerPage = 4096 / 8;

    [FieldOffset(0)] public ushort Flags;
    /// <summary>The domain allowed to use this grant.</summary>
    [FieldOffset(2)] public ushort DomId;
    /// <summary>The granted guest frame.</summary>
    [FieldOffset(4)] public uint Frame;
}
