using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>struct gnttab_query_size (grant_table.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct GrantQuerySize
{
    [FieldOffset(0)] public ushort Dom;
    /// <summary>OUT.</summary>
    [FieldOffset(4)] public uint NrFrames;
    /// <summary>OUT.</summary>
    [FieldOffset(8)] public uint MaxNrFrames;
    /// <summary>OUT: a <see cref="GrantStatus"/>.</summary>
    [FieldOffset(12)] public short Status;
}
