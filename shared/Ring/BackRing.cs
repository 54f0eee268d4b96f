using System.Runtime.CompilerServices;

namespace Disagg.Ring;

/// <summary>
/// The backend's end of a Xen ring: it consumes requests and produces responses. The frontend
/// is untrusted: a req_prod more than a ring's worth ahead of req_cons (or behind it) stops the
/// ring with a <see cref="RingFault"/>; requests are copied out of their slot before use, so the
/// frontend cannot change one after it was checked; nothing outside the ring is touched.
/// </summary>
public sealed unsafe class BackRing<TReq, TRsp>
    where TReq : unmanaged
    where TRsp : unmanaged
{
    private readonly SharedRingHeader* _shared;
    private readonly byte* _slots;
    private readonly int _slotSize;
    private readonly uint _mask;
    private uint _reqCons;
    private uint _rspProdPvt;

    private BackRing(string name, byte* ring, int bytes, uint start)
    {
        Name = name;
        _shared = (SharedRingHeader*)ring;
        _slots = ring + SharedRingHeader.Size;
        _slotSize = RingGeometry.SlotSize<TReq, TRsp>();
        Size = RingGeometry.SlotCount(bytes, _slotSize);
        _mask = (uint)Size - 1;
        _reqCons = start;
        _rspProdPvt = start;
    }

    public string Name { get; }

    public int Size { get; }

    public RingFault Fault { get; private set; }

    /// <summary>BACK_RING_INIT: a ring the frontend has just initialized.</summary>
    public static BackRing<TReq, TRsp> Attach(string name, byte* ring, int bytes) => new(name, ring, bytes, 0);

    /// <summary>
    /// BACK_RING_ATTACH: a restarted backend picks the ring up where its predecessor last
    /// published a response; requests after that are taken again (the protocols' requests are
    /// idempotent for exactly this reason).
    /// </summary>
    public static BackRing<TReq, TRsp> Resume(string name, byte* ring, int bytes) =>
        new(name, ring, bytes, Volatile.Read(ref ((SharedRingHeader*)ring)->RspProd));

    /// <summary>Requests waiting, never more than the free response slots allow (0 after a fault).</summary>
    public int UnconsumedRequests
    {
        get
        {
            if (Fault != RingFault.None)
            {
                return 0;
            }

            var ahead = Volatile.Read(ref _shared->ReqProd) - _reqCons;
            if (ahead > (uint)Size)
            {
                Fault = RingFault.ProducerTooFarAhead; // includes an index that went backwards (huge in u32)
                return 0;
            }

            var room = (uint)Size - (_reqCons - _rspProdPvt);
            return (int)Math.Min(ahead, room);
        }
    }

    /// <summary>Takes the next request, copied out of the shared slot; false if none, or the ring has faulted.</summary>
    public bool TryTakeRequest(out TReq request)
    {
        if (UnconsumedRequests == 0)
        {
            request = default;
            return false;
        }

        request = Unsafe.AsRef<TReq>(_slots + ((_reqCons & _mask) * (uint)_slotSize));
        _reqCons++;
        return true;
    }

    /// <summary>Takes up to <paramref name="into"/>.Length requests; returns how many.</summary>
    public int TakeRequests(Span<TReq> into)
    {
        var n = Math.Min(UnconsumedRequests, into.Length);
        for (var i = 0; i < n; i++)
        {
            into[i] = Unsafe.AsRef<TReq>(_slots + ((_reqCons & _mask) * (uint)_slotSize));
            _reqCons++;
        }

        return n;
    }

    /// <summary>The next response slot (RING_GET_RESPONSE at rsp_prod_pvt): one per request taken.</summary>
    public ref TRsp NextResponse()
    {
        if (_rspProdPvt == _reqCons)
        {
            throw new InvalidOperationException($"ring {Name}: a response for a request that was never taken");
        }

        return ref Unsafe.AsRef<TRsp>(_slots + ((_rspProdPvt++ & _mask) * (uint)_slotSize));
    }

    /// <summary>RING_PUSH_RESPONSES_AND_CHECK_NOTIFY.</summary>
    public bool PushResponses() => RingNotify.Publish(ref _shared->RspProd, _rspProdPvt, ref _shared->RspEvent);

    /// <summary>RING_FINAL_CHECK_FOR_REQUESTS: only a false answer makes sleeping safe.</summary>
    public bool FinalCheckForRequests()
    {
        if (UnconsumedRequests > 0)
        {
            return true;
        }

        if (Fault != RingFault.None)
        {
            return false;
        }

        RingNotify.RequestWake(ref _shared->ReqEvent, _reqCons);
        return UnconsumedRequests > 0;
    }
}
