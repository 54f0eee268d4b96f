using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct blkif_request_indirect (io/blkif.h): segments live in up to 8 granted pages of descriptors.</summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
public unsafe struct BlkifRequestIndirect
{
    public const int MaxIndirectPages = 8;
    public const int SegmentsPerPage = 4096 / 8;

    [FieldOffset(0)] public byte Operation;
    [FieldOffset(1)] public byte IndirectOp;
    [FieldOffset(2)] public ushort NrSegments;
    [FieldOffset(8)] public ulong Id;
    [FieldOffset(16)] public ulong SectorNumber;
    [FieldOffset(24)] public ushort Handle;
    [FieldOffset(28)] public fixed uint IndirectGrefs[MaxIndirectPages];
}
