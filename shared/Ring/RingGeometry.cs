using System.Numerics;
using System.Runtime.CompilerServices;

namespace Disagg.Ring;

/// <summary>How many slots a ring has: Xen's __RING_SIZE — the space after the header divided by the slot size, rounded down to a power of two.</summary>
public static class RingGeometry
{
    public const int PageSize = 4096;
    public const int MaxPageOrder = 4;

    /// <summary>A slot is a union of one request and one response: the larger of the two.</summary>
    public static int SlotSize<TReq, TRsp>()
        where TReq : unmanaged
        where TRsp : unmanaged => Math.Max(Unsafe.SizeOf<TReq>(), Unsafe.SizeOf<TRsp>());

    public static int SlotCount(int ringBytes, int slotSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotSize);
        var fit = (ringBytes - SharedRingHeader.Size) / slotSize;
        return fit < 1 ? throw new ArgumentException($"a {ringBytes}-byte ring has no room for a {slotSize}-byte slot") : (int)BitOperations.RoundUpToPowerOf2((uint)fit + 1) >> 1;
    }

    public static int SlotCount<TReq, TRsp>(int pageOrder)
        where TReq : unmanaged
        where TRsp : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageOrder);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageOrder, MaxPageOrder);
        return SlotCount(PageSize << pageOrder, SlotSize<TReq, TRsp>());
    }
}
