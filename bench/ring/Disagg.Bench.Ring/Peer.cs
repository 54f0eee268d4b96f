using Disagg.Interop;
using Disagg.Ring;

namespace Disagg.Bench.Ring;

/// <summary>The far end of each measurement, in its own process.</summary>
internal static unsafe class Peer
{
    public static int Run(string mode, SharedMemorySegment shm, Doorbell toPeer, Doorbell fromPeer, long count)
    {
        var word = (long*)shm.Pointer;
        switch (mode)
        {
            case "eventfd":
                for (long i = 0; i < count; i++)
                {
                    toPeer.Wait(Timeout.InfiniteTimeSpan);
                    fromPeer.Ring();
                }

                return 0;
            case "spin":
                for (long i = 1; i <= count; i++)
                {
                    while (Volatile.Read(ref word[0]) != i)
                    {
                    }

                    Volatile.Write(ref word[8], i);
                }

                return 0;
            default:
                return Back(mode, shm, toPeer, fromPeer, count);
        }
    }

    private static int Back(string mode, SharedMemorySegment shm, Doorbell requests, Doorbell responses, long count)
    {
        var ring = BackRing<Message, Ack>.Attach("bench", shm.Pointer + 4096, (int)shm.Length - 4096);
        var sleeping = mode.EndsWith("sleeping", StringComparison.Ordinal);
        Span<Message> batch = stackalloc Message[256];
        long done = 0;
        while (done < count)
        {
            var n = ring.TakeRequests(batch);
            if (n == 0)
            {
                if (sleeping && !ring.FinalCheckForRequests())
                {
                    requests.Wait(Timeout.InfiniteTimeSpan);
                }

                continue;
            }

            for (var i = 0; i < n; i++)
            {
                ring.NextResponse().Seq = batch[i].Seq;
            }

            if (ring.PushResponses())
            {
                responses.Ring();
            }

            done += n;
        }

        return 0;
    }
}
