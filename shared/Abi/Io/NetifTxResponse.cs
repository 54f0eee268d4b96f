using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct netif_tx_response (io/netif.h).</summary>
[StructLayout(LayoutKind.Explicit, Size = 4)]
public struct NetifTxResponse
{
    public const short StatusOkay = 0;
    public const short StatusError = -1;
    public const short StatusDropped = -2;
    public const short StatusNull = 1;

    [FieldOffset(0)] public ushort Id;
    [FieldOffset(2)] public short Status;
}
