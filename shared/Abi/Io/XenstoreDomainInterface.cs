using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>
/// struct xenstore_domain_interface (io/xs_wire.h, spec §6): a guest's xenstore ring page.
/// 1 KiB byte rings each way, free-running indices masked by 1024; messages may wrap.
/// Error (Xen 4.16+) is written by the server before it stops serving a broken ring.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 2076)]
public unsafe struct XenstoreDomainInterface
{
    public const int RingSize = 1024;
    /// <summary>server_features bit: the guest may ask for the ring to be reset.</summary>
    public const uint FeatureReconnection = 1;
    /// <summary>server_features bit: the Error field is maintained.</summary>
    public const uint FeatureError = 2;
    public const uint Connected = 0;
    public const uint Reconnect = 1;

    [FieldOffset(0)] public fixed byte Req[RingSize];
    [FieldOffset(1024)] public fixed byte Rsp[RingSize];
    [FieldOffset(2048)] public uint ReqCons;
    [FieldOffset(2052)] public uint ReqProd;
    [FieldOffset(2056)] public uint RspCons;
    [FieldOffset(2060)] public uint RspProd;
    [FieldOffset(2064)] public uint ServerFeatures;
    [FieldOffset(2068)] public uint Connection;
    [FieldOffset(2072)] public uint Error;
}
