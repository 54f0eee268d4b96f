using System.Diagnostics;
using Disagg.Interop;
using Disagg.Ring.Peer;

namespace Disagg.Ring.Tests;

/// <summary>A real second process on the other end of a memfd ring with eventfd doorbells.</summary>
public sealed unsafe class CrossProcessRingTests
{
    private const int Total = 1_000_000;

    [Fact]
    public void AMillionRequestsAreEachAnsweredOnceInOrderWithNoLostWakeUp()
    {
        using var segment = SharedMemorySegment.Create("ring-test", 1);
        using var requestBell = new Doorbell();
        using var responseBell = new Doorbell();
        var front = new FrontRing<TestRequest, TestResponse>("cross", segment.Pointer, (int)segment.Length);
        using var peer = new PeerProcess("back", "7", "1");
        peer.Send(1, segment.Fd, requestBell.Fd, responseBell.Fd);

        var rng = new Random(11);
        ulong sent = 0;
        ulong expected = 0;
        var watch = Stopwatch.StartNew();
        var bound = TimeSpan.FromSeconds(120);
        while (expected < Total + 1UL)
        {
            Assert.True(watch.Elapsed < bound, $"stuck at {expected} of {Total} responses");
            // Send a random batch (the last request says the test is over).
            var batch = Math.Min(rng.Next(1, 97), front.FreeRequests);
            for (var i = 0; i < batch && sent <= Total; i++, sent++)
            {
                front.NextRequest() = new TestRequest { Seq = sent == Total ? TestRequest.EndOfTest : sent, Payload = sent * 31 };
            }

            if (front.PushRequests())
            {
                requestBell.Ring();
            }

            // Take what has come back; sleep on the doorbell only after a false final check.
            while (front.TryTakeResponse(out var rsp))
            {
                var seq = expected == Total ? TestRequest.EndOfTest : expected;
                Assert.Equal(seq, rsp.Seq);
                Assert.Equal(TestResponse.CheckOf(seq, expected * 31), rsp.Check);
                expected++;
            }

            if (expected <= Total && (front.FreeRequests == 0 || sent > Total))
            {
                if (!front.FinalCheckForResponses())
                {
                    Assert.True(responseBell.Wait(TimeSpan.FromSeconds(30)), $"no response for 30 s at {expected}: lost wake-up");
                }
            }

            if (rng.Next(2000) == 0)
            {
                Thread.Sleep(rng.Next(1, 3));
            }
        }

        Assert.Equal(RingFault.None, front.Fault);
        Assert.Equal(0, peer.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void APassedSegmentShowsTheSameBytesInBothProcesses()
    {
        using var segment = SharedMemorySegment.Create("map-test", 2);
        for (var i = 0; i < segment.Length; i++)
        {
            segment.Pointer[i] = (byte)(i * 7);
        }

        using var peer = new PeerProcess("map");
        peer.Send(2, segment.Fd);
        Assert.Equal(0, peer.WaitForExit(TimeSpan.FromSeconds(30)));
        for (var i = 0; i < segment.Length; i++)
        {
            Assert.Equal((byte)(i * 13), segment.Pointer[i]);
        }
    }
}
