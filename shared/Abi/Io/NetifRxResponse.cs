using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct netif_rx_response (io/netif.h): Status &gt; 0 is the byte count received.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct NetifRxResponse
{
    public const ushort FlagDataValidated = 1;
    public const ushort FlagCsumBlank = 2;
    public const ushort FlagMoreData = 4;
    public const ushort FlagExtraInfo = 8;

    [FieldOffset(0)] public ushort Id;
    [FieldOffset(2)] public ushort Offset;
    [FieldOffset(4)] public ushort Flags;
    [FieldOffset(6)] public short Status;
}
