using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct blkif_request_discard (io/blkif.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 112)]
public struct BlkifRequestDiscard
{
    public const byte FlagSecure = 1;

    [FieldOffset(0)] public byte Operation;
    [FieldOffset(1)] public byte Flag;
    [FieldOffset(2)] public ushort Handle;
    [FieldOffset(8)] public ulong Id;
    [FieldOffset(16)] public ulong SectorNumber;
    [FieldOffset(24)] public ulong NrSectors;
}
