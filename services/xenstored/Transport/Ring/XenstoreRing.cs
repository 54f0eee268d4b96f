using System.Runtime.CompilerServices;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// Xen's xenstore ring protocol (spec §6) over a guest's page: two 1 KiB byte rings with
/// free-running u32 indices masked by 1024, messages free to wrap. The guest owns req_prod and
/// rsp_cons, we own req_cons and rsp_prod; every index is re-read from shared memory and checked,
/// because the guest can write anything there at any time. An index pair more than 1024 apart is a
/// lie, answered with <see cref="XenstoreRingError.RingIndex"/> and no further service.
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
    private const int Size = XenstoreDomainInterface.RingSize;

    /// <summary>Copies up to destination.Length request bytes out of the ring and advances req_cons. -1: the indices lie.</summary>
    public static int ReadRequests(Span<byte> page, Span<byte> destination)
    {
        var cons = Volatile.Read(ref Field(page, ReqConsOffset));
        var prod = Volatile.Read(ref Field(page, ReqProdOffset));
        var available = prod - cons;
        if (available > Size)
        {
            return -1;
        }

        // The guest wrote the bytes before it moved req_prod; read them only after reading req_prod.
        Interlocked.MemoryBarrier();
        var n = (int)Math.Min(available, (uint)destination.Length);
        CopyOut(page.Slice(ReqOffset, Size), (int)(cons & (Size - 1)), destination[..n]);
        Interlocked.MemoryBarrier();
        Volatile.Write(ref Field(page, ReqConsOffset), cons + (uint)n);
        return n;
    }

    /// <summary>Copies as much of <paramref name="source"/> as fits into the response ring and publishes it. -1: the indices lie.</summary>
    public static int WriteResponses(Span<byte> page, ReadOnlySpan<byte> source)
    {
        var cons = Volatile.Read(ref Field(page, RspConsOffset));
        var prod = Volatile.Read(ref Field(page, RspProdOffset));
        var used = prod - cons;
        if (used > Size)
        {
            return -1;
        }

        var n = (int)Math.Min(Size - used, (uint)source.Length);
        CopyIn(page.Slice(RspOffset, Size), (int)(prod & (Size - 1)), source[..n]);
        // The bytes must be visible before the guest sees rsp_prod move.
        Interlocked.MemoryBarrier();
        Volatile.Write(ref Field(page, RspProdOffset), prod + (uint)n);
        return n;
    }

    public static bool HasRequests(Span<byte> page) =>
        Volatile.Read(ref Field(page, ReqProdOffset)) != Volatile.Read(ref Field(page, ReqConsOffset));

    public static uint Read(Span<byte> page, int offset) => Volatile.Read(ref Field(page, offset));

    public static void Write(Span<byte> page, int offset, uint value) => Volatile.Write(ref Field(page, offset), value);

    private static ref uint Field(Span<byte> page, int offset) => ref Unsafe.As<byte, uint>(ref page[offset]);

    private static void CopyOut(Span<byte> ring, int start, Span<byte> destination)
    {
        var first = Math.Min(destination.Length, Size - start);
        ring.Slice(start, first).CopyTo(destination);
        ring[..(destination.Length - first)].CopyTo(destination[first..]);
    }

    private static void CopyIn(Span<byte> ring, int start, ReadOnlySpan<byte> source)
    {
        var first = Math.Min(source.Length, Size - start);
        source[..first].CopyTo(ring[start..]);
        source[first..].CopyTo(ring);
    }
}
