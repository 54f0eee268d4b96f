using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct netif_tx_request (io/netif.h). Size is the whole packet's size on a packet's first slot.</summary>
[StructLayout(LayoutKind.Explicit, Size = 12)]
public struct NetifTxRequest
{
    public const ushort FlagCsumBlank = 1;
    public const ushort FlagDataValidated = 2;
    public const ushort FlagMoreData = 4;
    public const ushort FlagExtraInfo = 8;

    [FieldOffset(0)] public uint Gref;
    [FieldOffset(4)] public ushort Offset;
    [FieldOffset(6)] public ushort Flags;
    [FieldOffset(8)] public ushort Id;
    [FieldOffset(10)] public ushort Size;
}
