using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct netif_rx_request (io/netif.h): a granted page the backend may copy a frame into.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct NetifRxRequest
{
    [FieldOffset(0)] public ushort Id;
    [FieldOffset(4)] public uint Gref;
}
