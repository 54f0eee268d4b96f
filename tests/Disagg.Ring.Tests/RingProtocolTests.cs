using Disagg.Ring.Peer;

namespace Disagg.Ring.Tests;

/// <summary>Both ends of a ring in one process, over guarded memory: the ring.h rules, step by step.</summary>
public sealed unsafe class RingProtocolTests : IDisposable
{
    private readonly GuardedRing _mem = new(4096);
    private readonly FrontRing<TestRequest, TestResponse> _front;
    private readonly BackRing<TestRequest, TestResponse> _back;

    public RingProtocolTests()
    {
        _front = new FrontRing<TestRequest, TestResponse>("t", _mem.Ring, _mem.Bytes);
        _back = BackRing<TestRequest, TestResponse>.Attach("t", _mem.Ring, _mem.Bytes);
    }

    public void Dispose() => _mem.Dispose();

    private void Request(ulong seq) => _front.NextRequest() = new TestRequest { Seq = seq, Payload = seq * 3 };

    [Fact]
    public void InitSetsTheEventIndicesToOneAndPrivateIndicesStayPrivate()
    {
        Assert.Equal((0u, 1u, 0u, 1u), (_mem.Header.ReqProd, _mem.Header.ReqEvent, _mem.Header.RspProd, _mem.Header.RspEvent));
        Assert.Equal(32, _front.Size); // (4096 - 64) / 64 = 63 slots fit; Xen rounds down to 32
        Request(1);
        Assert.Equal(0u, _mem.Header.ReqProd); // not published until pushed
        _front.PushRequests();
        Assert.Equal(1u, _mem.Header.ReqProd);
    }

    [Fact]
    public void ARequestRoundTripsInOrder()
    {
        for (ulong i = 0; i < 10; i++)
        {
            Request(i);
        }

        _front.PushRequests();
        var got = new List<ulong>();
        while (_back.TryTakeRequest(out var r))
        {
            got.Add(r.Seq);
            ref var rsp = ref _back.NextResponse();
            rsp.Seq = r.Seq;
        }

        _back.PushResponses();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (ulong)i), got);
        var answers = new List<ulong>();
        while (_front.TryTakeResponse(out var rsp))
        {
            answers.Add(rsp.Seq);
        }

        Assert.Equal(got, answers);
    }

    [Fact]
    public void NotificationsAreSuppressedExactlyAsRingHSays()
    {
        Request(1);
        Assert.True(_front.PushRequests()); // req_event = 1 is in (0, 1]: the back asked to be woken
        Request(2);
        Assert.False(_front.PushRequests()); // the back has not slept since: no second doorbell
        Assert.True(_back.FinalCheckForRequests()); // work is there: it does not sleep
        _back.TakeRequests(stackalloc TestRequest[8]);
        Assert.False(_back.FinalCheckForRequests()); // now it may sleep, having asked for req_cons + 1
        Assert.Equal(3u, _mem.Header.ReqEvent);
        Request(3);
        Assert.True(_front.PushRequests());
        _back.TakeRequests(stackalloc TestRequest[8]);

        // Responses, the same way round.
        for (var i = 0; i < 3; i++)
        {
            _back.NextResponse().Seq = (ulong)i;
        }

        Assert.True(_back.PushResponses());
        Assert.True(_front.FinalCheckForResponses());
    }

    [Fact]
    public void TheFrontNeverHasMoreThanARingOfRequestsOutstanding()
    {
        for (var i = 0; i < _front.Size; i++)
        {
            Request((ulong)i);
        }

        Assert.Equal(0, _front.FreeRequests);
        Assert.Throws<InvalidOperationException>(() => _front.NextRequest());
    }

    [Fact]
    public void TheBackNeverTakesMoreThanItHasResponseRoomFor()
    {
        for (var i = 0; i < _front.Size; i++)
        {
            Request((ulong)i);
        }

        _front.PushRequests();
        Assert.Equal(_front.Size, _back.TakeRequests(new TestRequest[100]));
        Assert.Equal(0, _back.UnconsumedRequests);
        for (var i = 0; i < _front.Size; i++)
        {
            _back.NextResponse().Seq = (ulong)i;
        }

        Assert.Throws<InvalidOperationException>(() => _back.NextResponse()); // one per request taken, no more
    }

    [Theory]
    [InlineData(64u)] // a ring's worth and one more ahead
    [InlineData(1000u)]
    [InlineData(uint.MaxValue)] // "behind": req_prod went backwards
    [InlineData(0x8000_0000u)]
    public void AFrontThatLiesAboutReqProdStopsTheRing(uint ahead)
    {
        Request(1);
        _front.PushRequests();
        _back.TryTakeRequest(out _);
        _mem.Header.ReqProd = 1 + ahead;
        Assert.Equal(0, _back.UnconsumedRequests);
        Assert.Equal(RingFault.ProducerTooFarAhead, _back.Fault);
        Assert.False(_back.TryTakeRequest(out _));
        Assert.False(_back.FinalCheckForRequests());
        _mem.Header.ReqProd = 2; // even an honest index later: the ring stays stopped
        Assert.Equal(0, _back.UnconsumedRequests);
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void ABackThatAnswersRequestsNeverMadeStopsTheRing()
    {
        Request(1);
        _front.PushRequests();
        _mem.Header.RspProd = 2; // two responses to one request
        Assert.False(_front.TryTakeResponse(out _));
        Assert.Equal(RingFault.MoreResponsesThanRequests, _front.Fault);
        Assert.False(_front.FinalCheckForResponses());
        Assert.True(_mem.CanariesIntact());
    }

    [Fact]
    public void RandomIndicesFromAHostilePeerNeverReachOutsideTheRing()
    {
        var rng = new Random(17);
        for (var round = 0; round < 2000; round++)
        {
            using var mem = new GuardedRing(4096);
            var back = BackRing<TestRequest, TestResponse>.Attach("fuzz", mem.Ring, mem.Bytes);
            for (var step = 0; step < 20; step++)
            {
                mem.Header.ReqProd = (uint)rng.Next() ^ ((uint)rng.Next() << 16);
                var batch = new TestRequest[rng.Next(1, 100)];
                var n = back.TakeRequests(batch);
                for (var i = 0; i < n; i++)
                {
                    back.NextResponse().Seq = batch[i].Seq;
                }

                back.PushResponses();
                back.FinalCheckForRequests();
            }

            Assert.True(mem.CanariesIntact());
        }
    }

    [Fact]
    public void AResumedBackendPicksUpAfterTheLastPublishedResponse()
    {
        for (ulong i = 0; i < 5; i++)
        {
            Request(i);
        }

        _front.PushRequests();
        var batch = new TestRequest[5];
        _back.TakeRequests(batch);
        _back.NextResponse().Seq = 0;
        _back.NextResponse().Seq = 1;
        _back.PushResponses(); // then the backend dies with 2, 3, 4 taken but unanswered

        var again = BackRing<TestRequest, TestResponse>.Resume("t", _mem.Ring, _mem.Bytes);
        var retaken = new TestRequest[5];
        Assert.Equal(3, again.TakeRequests(retaken));
        Assert.Equal([2UL, 3UL, 4UL], retaken[..3].Select(r => r.Seq));
    }
}
