using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>struct gnttab_map_grant_ref (grant_table.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct GrantMapRef
{
    public const uint MapHostMap = 1 << 1;
    public const uint MapReadOnly = 1 << 2;

    [FieldOffset(0)] public ulong HostAddr;
    [FieldOffset(8)] public uint Flags;
    [FieldOffset(12)] public uint Ref;
    [FieldOffset(16)] public ushort Dom;
    /// <summary>OUT: a <see cref="GrantStatus"/>.</summary>
    [FieldOffset(18)] public short Status;
    /// <summary>OUT.</summary>
    [FieldOffset(20)] public uint Handle;
    [FieldOffset(24)] public ulong DevBusAddr;
}
