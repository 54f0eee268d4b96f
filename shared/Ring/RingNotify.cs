namespace Disagg.Ring;

/// <summary>
/// The two ring.h rules both ends share, written once: publishing a producer index with
/// push-and-check-notify, and asking to be woken before sleeping (the final check's first half).
/// </summary>
internal static class RingNotify
{
    /// <summary>
    /// Publishes <paramref name="value"/> as the producer index: release store, full barrier, then
    /// true if the consumer's event index lies in the range just published (it asked to be woken).
    /// </summary>
    public static bool Publish(ref uint producer, uint value, ref uint consumerEvent)
    {
        var old = producer;
        Volatile.Write(ref producer, value); // the slots are visible before the index
        Interlocked.MemoryBarrier(); // the index is visible before we read the event
        return value - Volatile.Read(ref consumerEvent) < value - old;
    }

    /// <summary>Asks to be woken at the next item after <paramref name="consumed"/>; the caller must look once more before sleeping.</summary>
    public static void RequestWake(ref uint ownEvent, uint consumed)
    {
        Volatile.Write(ref ownEvent, consumed + 1);
        Interlocked.MemoryBarrier();
    }
}
