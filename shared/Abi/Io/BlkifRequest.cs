using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>
/// struct blkif_request (io/blkif.h), 112 bytes on 64-bit layouts. The indirect and discard
/// forms share the slot; read them through <see cref="BlkifRequestIndirect"/> and
/// <see cref="BlkifRequestDiscard"/> when Operation says so.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
public unsafe struct BlkifRequest
{
    public const int MaxSegments = 11;
    public const int SectorSize = 512;

    [FieldOffset(0)] public byte Operation;
    [FieldOffset(1)] public byte NrSegments;
    [FieldOffset(2)] public ushort Handle;
    [FieldOffset(8)] public ulong Id;
    [FieldOffset(16)] public ulong SectorNumber;
    /// <summary>Eleven <see cref="BlkifSegment"/>s.</summary>
    [FieldOffset(24)] public fixed byte Segments[MaxSegments * 8];
}
