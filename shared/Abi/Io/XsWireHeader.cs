using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>struct xsd_sockmsg (io/xs_wire.h): the 16-byte header before every xenstore payload.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct XsWireHeader
{
    /// <summary>XENSTORE_PAYLOAD_MAX.</summary>
    public const int MaxPayload = 4096;
    /// <summary>XENSTORE_ABS_PATH_MAX.</summary>
    public const int MaxAbsolutePath = 3072;
    /// <summary>XENSTORE_REL_PATH_MAX.</summary>
    public const int MaxRelativePath = 2048;

    /// <summary>An <see cref="XsMessageType"/>.</summary>
    [FieldOffset(0)] public uint Type;
    /// <summary>Echoed in the reply.</summary>
    [FieldOffset(4)] public uint ReqId;
    /// <summary>Transaction id, 0 for none.</summary>
    [FieldOffset(8)] public uint TxId;
    [FieldOffset(12)] public uint Len;
}
