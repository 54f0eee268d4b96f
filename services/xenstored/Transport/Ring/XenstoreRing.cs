using System.Runtime.CompilerServices;
using Disagg.Abi.Io;
using Disagg.Ring;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// Xen's xenstore ring page (spec §6, struct xenstore_domain_interface) as the server sees it: two 1 KiB
/// <see cref="ByteRing"/>s, requests in (the guest produces, we consume) and responses out, plus the
/// control fields. The guest owns req_prod and rsp_cons, we own req_cons and rsp_prod; the byte rings
/// re-read and check every index, and a pair more than 1024 apart is a lie, answered with
/// <see cref="XenstoreRingError.RingIndex"/> and no further service.
/// </summary>
public static class XenstoreRing
{
    public const int ReqOffset = 0;
    public const int RspOffset = 1024;
    public const int ReqConsOffset = 2048;
    public const int ReqProdOffset = 2052;
    public const int RspConsOffset = 2056;
    public const int RspProdOffset = 2060;
    public const int ServerFeaturesOffset = 2064;
    public const int ConnectionOffset = 2068;
    public const int ErrorOffset = 2072;
    public const int PageBytesUsed = 2076;

    /// <summary>The request ring: we are its consumer.</summary>
    public static ByteRing Requests(Span<byte> page) =>
        new(page, ReqOffset, XenstoreDomainInterface.RingSize, ReqConsOffset, ReqProdOffset);

    /// <summary>The response ring: we are its producer.</summary>
    public static ByteRing Responses(Span<byte> page) =>
        new(page, RspOffset, XenstoreDomainInterface.RingSize, RspConsOffset, RspProdOffset);

    public static uint Read(Span<byte> page, int offset) => Volatile.Read(ref Field(page, offset));

    public static void Write(Span<byte> page, int offset, uint value) => Volatile.Write(ref Field(page, offset), value);

    private static ref uint Field(Span<byte> page, int offset) => ref Unsafe.As<byte, uint>(ref page.Slice(offset, sizeof(uint))[0]);
}
