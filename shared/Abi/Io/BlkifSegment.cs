using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct blkif_request_segment (io/blkif.h): one granted page and the 512-byte sectors used in it (0..7).</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct BlkifSegment
{
    [FieldOffset(0)] public uint Gref;
    [FieldOffset(4)] public byte FirstSect;
    [FieldOffset(5)] public byte LastSect;
}
