using System.Runtime.CompilerServices;

namespace Disagg.Ring;

/// <summary>
/// The frontend's end of a Xen ring (io/ring.h): it produces requests and consumes responses.
/// Its private indices (req_prod_pvt, rsp_cons) never reach the shared page. A backend that
/// publishes responses to requests never made stops the ring with a <see cref="RingFault"/>;
/// nothing outside the ring's memory is read or written.
/// </summary>
public sealed unsafe class FrontRing<TReq, TRsp>
    where TReq : unmanaged
    where TRsp : unmanaged
{
    private readonly SharedRingHeader* _shared;
    private readonly byte* _slots;
    private readonly int _slotSize;
    private readonly uint _mask;
    private uint _reqProdPvt;
    private uint _rspCons;

    /// <summary>Initializes the shared page (SHARED_RING_INIT + FRONT_RING_INIT) over <paramref name="bytes"/> bytes at <paramref name="ring"/>.</summary>
    public FrontRing(string name, byte* ring, int bytes)
    {
        Name = name;
        _shared = (SharedRingHeader*)ring;
        _slots = ring + SharedRingHeader.Size;
        _slotSize = RingGeometry.SlotSize<TReq, TRsp>();
        Size = RingGeometry.SlotCount(bytes, _slotSize);
        _mask = (uint)Size - 1;
        new Span<byte>(ring, SharedRingHeader.Size).Clear();
        _shared->ReqEvent = 1;
        _shared->RspEvent = 1;
    }

    public string Name { get; }

    public int Size { get; }

    public RingFault Fault { get; private set; }

    /// <summary>Slots free for new requests: the ring holds at most Size requests not yet answered.</summary>
    public int FreeRequests => Size - (int)(_reqProdPvt - _rspCons);

    /// <summary>Requests produced here but not yet answered.</summary>
    public int Outstanding => (int)(_reqProdPvt - _rspCons);

    /// <summary>The next request slot to fill (RING_GET_REQUEST at req_prod_pvt); call <see cref="PushRequests"/> to publish.</summary>
    public ref TReq NextRequest()
    {
        if (FreeRequests <= 0)
        {
            throw new InvalidOperationException($"ring {Name}: no free request slot (check FreeRequests first)");
        }

        return ref Unsafe.AsRef<TReq>(_slots + ((_reqProdPvt++ & _mask) * (uint)_slotSize));
    }

    /// <summary>RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, and say whether the backend asked to be woken.</summary>
    public bool PushRequests() => RingNotify.Publish(ref _shared->ReqProd, _reqProdPvt, ref _shared->ReqEvent);

    /// <summary>Responses published and not yet taken (0 after a fault).</summary>
    public int UnconsumedResponses
    {
        get
        {
            if (Fault != RingFault.None)
            {
                return 0;
            }

            var available = Volatile.Read(ref _shared->RspProd) - _rspCons;
            if (available > _reqProdPvt - _rspCons)
            {
                Fault = RingFault.MoreResponsesThanRequests;
                return 0;
            }

            return (int)available;
        }
    }

    /// <summary>Takes the next response (copied out of the shared slot); false if none, or the ring has faulted.</summary>
    public bool TryTakeResponse(out TRsp response)
    {
        if (UnconsumedResponses == 0)
        {
            response = default;
            return false;
        }

        response = Unsafe.AsRef<TRsp>(_slots + ((_rspCons & _mask) * (uint)_slotSize));
        _rspCons++;
        return true;
    }

    /// <summary>Takes up to <paramref name="into"/>.Length responses; returns how many.</summary>
    public int TakeResponses(Span<TRsp> into)
    {
        var n = Math.Min(UnconsumedResponses, into.Length);
        for (var i = 0; i < n; i++)
        {
            into[i] = Unsafe.AsRef<TRsp>(_slots + ((_rspCons & _mask) * (uint)_slotSize));
            _rspCons++;
        }

        return n;
    }

    /// <summary>
    /// RING_FINAL_CHECK_FOR_RESPONSES: true if there is work; otherwise asks to be notified at
    /// the next response and looks once more — only a false answer here makes sleeping safe.
    /// </summary>
    public bool FinalCheckForResponses()
    {
        if (UnconsumedResponses > 0)
        {
            return true;
        }

        RingNotify.RequestWake(ref _shared->RspEvent, _rspCons);
        return UnconsumedResponses > 0;
    }
}
