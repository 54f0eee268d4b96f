using Disagg.Abi.Io;

namespace Disagg.Blkback.Service.Tests;

/// <summary>Allocation is counted process-wide, so these tests run with no other test class alongside.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "allocation";
}

/// <summary>The I/O loop's hot path: a request costs no allocation, so a busy disk never wakes the GC.</summary>
[Collection(AllocationCollection.Name)]
public sealed class HotPathAllocationTests
{
    private const short Ok = BlkifResponse.StatusOkay;

    [Fact]
    public void TheHotPathAllocatesNothingPerRequest()
    {
        using var h = new LoopHarness();
        var (fe, ring) = h.AddRaw(6);
        Run(fe, 2000, ring); // warm: JIT, tiering, pools
        // Process-wide: the loop thread's allocations are the point. This class runs alone (its collection),
        // so no other test allocates meanwhile.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        const int n = 20000;
        Run(fe, n, ring);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        // One object per request would be >= 24 bytes each: 480 KB. What remains is the test host's own noise.
        Assert.True(allocated < n * 2, $"{allocated} bytes allocated over {n} requests");

        static void Run(RingFrontend fe, int count, Blkback.DataPath.VbdRing ring)
        {
            var done = 0;
            var issued = 0;
            var deadline = Environment.TickCount64 + 120_000;
            var timeouts = 0;
            while (done < count)
            {
                if (Environment.TickCount64 > deadline)
                {
                    Assert.Fail($"{done} of {count} answered, {issued} issued, {fe.Ring.Outstanding} outstanding, {timeouts} waits timed out, {ring.Counters.ResponsePushes} pushes, {ring.Counters.Notifications} notifications");
                }
                while (issued < count && fe.Ring.FreeRequests > 0 && issued - done < 16)
                {
                    var op = issued % 2 == 0 ? BlkifOperation.Write : BlkifOperation.Read;
                    ref var r = ref fe.Ring.NextRequest();
                    r = default;
                    r.Operation = (byte)op;
                    r.NrSegments = 1;
                    r.Id = (ulong)issued;
                    r.SectorNumber = (ulong)(issued % 1000 * 8);
                    unsafe
                    {
                        fixed (byte* segs = r.Segments)
                        {
                            ((BlkifSegment*)segs)[0] = new BlkifSegment { Gref = RingFrontend.FirstRef + (uint)(issued % 16), FirstSect = 0, LastSect = 7 };
                        }
                    }

                    issued++;
                }

                fe.Push();
                var took = false;
                while (fe.Ring.TryTakeResponse(out var rsp))
                {
                    if (rsp.Status != Ok)
                    {
                        Assert.Fail($"request {rsp.Id}: status {rsp.Status}"); // not Assert.Equal: it allocates a comparer per call
                    }

                    done++;
                    took = true;
                }

                // Sleep only with nothing taken: answers just taken make room to issue more first.
                if (!took && done < count && !fe.Ring.FinalCheckForResponses())
                {
                    if (!fe.Bell.Wait(TimeSpan.FromSeconds(1)))
                    {
                        timeouts++;
                    }
                }
            }
        }
    }
}
