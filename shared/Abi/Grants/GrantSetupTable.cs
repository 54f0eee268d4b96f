using System.Runtime.InteropServices;

namespace Disagg.Abi.Grants;

/// <summary>struct gnttab_setup_table (grant_table.h): the guest asks for NrFrames grant frames.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct GrantSetupTable
{
    [FieldOffset(0)] public ushort Dom;
    [FieldOffset(4)] public uint NrFrames;
    /// <summary>OUT: a <see cref="GrantStatus"/>.</summary>
    [FieldOffset(8)] public short Status;
    /// <summary>Guest address of an array of u64 frame numbers the hypervisor fills in.</summary>
    [FieldOffset(16)] public ulong FrameList;
}
