using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct blkif_response (io/blkif.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct BlkifResponse
{
    public const short StatusOkay = 0;
    public const short StatusError = -1;
    public const short StatusNotSupported = -2;

    [FieldOffset(0)] public ulong Id;
    [FieldOffset(8)] public byte Operation;
    [FieldOffset(10)] public short Status;
}
