using Disagg.Interop;

namespace Disagg.Ring.Peer;

/// <summary>A backend that answers every request, in random batches with random pauses, sleeping on its doorbell by the ring.h rules.</summary>
internal static unsafe class Back
{
    public static int Serve(FileDescriptor[] fds, long pages, int seed, bool sleepy)
    {
        using var segment = SharedMemorySegment.Map(fds[0], pages);
        using var requestBell = new Doorbell(fds[1]);
        using var responseBell = new Doorbell(fds[2]);
        var ring = BackRing<TestRequest, TestResponse>.Attach("test", segment.Pointer, (int)segment.Length);
        var rng = new Random(seed);
        Span<TestRequest> batch = stackalloc TestRequest[64];
        while (true)
        {
            if (!ring.FinalCheckForRequests())
            {
                if (ring.Fault != RingFault.None)
                {
                    Console.Error.WriteLine($"peer: ring fault {ring.Fault}");
                    return 5;
                }

                if (!requestBell.Wait(TimeSpan.FromSeconds(60)))
                {
                    Console.Error.WriteLine("peer: no request for 60 s: lost wake-up");
                    return 6;
                }

                continue;
            }

            var take = ring.TakeRequests(batch[..rng.Next(1, 65)]);
            var end = false;
            for (var i = 0; i < take; i++)
            {
                ref var rsp = ref ring.NextResponse();
                rsp.Seq = batch[i].Seq;
                rsp.Check = TestResponse.CheckOf(batch[i].Seq, batch[i].Payload);
                end |= batch[i].Seq == TestRequest.EndOfTest;
            }

            if (ring.PushResponses())
            {
                responseBell.Ring();
            }

            if (end)
            {
                return 0;
            }

            if (sleepy && rng.Next(1000) == 0)
            {
                Thread.Sleep(rng.Next(1, 3));
            }
        }
    }
}
