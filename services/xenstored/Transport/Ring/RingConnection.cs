using System.Buffers.Binary;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Domains;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Transport.Ring;

/// <summary>
/// A guest's connection over its ring page. Requests are pulled by the loop when the guest kicks;
/// partial messages wait in a reassembly buffer until the rest arrives. A guest may have
/// <see cref="QuotaLimits.OutstandingRequests"/> replies unread before we stop taking its requests
/// (Xen's outstanding-requests quota); a lying index or a header over the payload limit ends
/// service with the ring's error field set (Xen 4.16+), while everyone else is served on.
/// </summary>
public sealed class RingConnection : XsConnection, IRingService
{
    /// <summary>Output kept for a guest whose ring is not attached (yet, or again after a restart).</summary>
    private const int MaxDetachedOutput = 64 * 1024;

    private readonly StoreLoop _loop;
    private readonly int _outstandingLimit;
    private readonly byte[] _in = new byte[16 + XsWireHeader.MaxPayload];
    private int _inFilled;
    private IGuestRing? _ring;
    private bool _throttled;
    private bool _notify;

    public RingConnection(GuestDomain domain, StoreLoop loop, int outstandingLimit)
        : base(new XsCaller(domain.DomainId, domain.DomainId == 0, domain.Target), "domain " + domain.DomainId)
    {
        _loop = loop;
        _outstandingLimit = outstandingLimit;
        Domain = domain;
        loop.Adopt(this);
    }

    /// <summary>The introduction this connection serves (where its page is, which port signals it).</summary>
    public GuestDomain Domain { get; set; }

    public override bool PersistsWatches => true;

    public bool IsAttached => _ring is not null;

    public XenstoreRingError? Fault { get; private set; }

    public long DroppedEvents { get; private set; }

    /// <summary>Starts serving the mapped page: advertise our features and look for requests queued meanwhile.</summary>
    public void Attach(IGuestRing ring)
    {
        _ring?.Dispose();
        _ring = ring;
        _inFilled = 0;
        XenstoreRing.Write(ring.Page, XenstoreRing.ServerFeaturesOffset,
            XenstoreDomainInterface.FeatureReconnection | XenstoreDomainInterface.FeatureError);
        ring.Listen(() => _loop.Post(new LoopInput(LoopInputKind.Kick, this, null, 0)));
        _loop.Post(new LoopInput(LoopInputKind.Kick, this, null, 0));
    }

    /// <summary>Stops using the page (it is about to be unmapped); replies wait until a ring is attached again.</summary>
    public void DetachRing()
    {
        _ring?.Dispose();
        _ring = null;
        _inFilled = 0;
    }

    public void Service(XsRequestProcessor processor)
    {
        if (_ring is null || IsClosed)
        {
            return;
        }

        var page = _ring.Page;
        if (XenstoreRing.Read(page, XenstoreRing.ConnectionOffset) == XenstoreDomainInterface.Reconnect)
        {
            ResetByGuest(page);
        }

        if (Output.PendingBytes > 0)
        {
            ScheduleFlush(); // the guest may have made room in the response ring
        }

        while (true)
        {
            if (!Caller.Privileged && Output.PendingMessages >= _outstandingLimit)
            {
                _throttled = true;
                break;
            }

            var need = _inFilled < 16 ? 16 - _inFilled : 16 + (int)PayloadLength - _inFilled;
            if (!XenstoreRing.Requests(page).TryRead(_in.AsSpan(_inFilled, need), out var n))
            {
                Stop(XenstoreRingError.RingIndex);
                return;
            }

            if (n == 0)
            {
                break;
            }

            _notify = true;
            _inFilled += n;
            if (_inFilled == 16 && PayloadLength > XsWireHeader.MaxPayload)
            {
                Stop(XenstoreRingError.Protocol);
                return;
            }

            if (_inFilled >= 16 && _inFilled == 16 + PayloadLength)
            {
                var header = new XsWireHeader
                {
                    Type = BinaryPrimitives.ReadUInt32LittleEndian(_in),
                    ReqId = BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(4)),
                    TxId = BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(8)),
                    Len = PayloadLength,
                };
                _inFilled = 0;
                processor.Handle(this, header, _in.AsSpan(16, (int)header.Len));
            }
        }

        if (_notify)
        {
            ScheduleFlush(); // the flush notifies once for consumed requests and written replies together
        }
    }

    public override void Flush()
    {
        if (IsClosed)
        {
            return;
        }

        if (_ring is null)
        {
            if (Output.PendingBytes > MaxDetachedOutput)
            {
                DroppedEvents++;
                Output.Clear(); // a detached guest cannot take events forever; it re-reads state on reconnect
            }

            return;
        }

        var page = _ring.Page;
        if (Output.PendingBytes > 0)
        {
            if (!XenstoreRing.Responses(page).TryWrite(Output.Pending, out var n))
            {
                Stop(XenstoreRingError.RingIndex);
                return;
            }

            if (n > 0)
            {
                Output.Consume(n);
                _notify = true;
            }
        }

        if (_notify)
        {
            _notify = false;
            _ring.Notify();
        }

        if (_throttled && Output.PendingMessages < _outstandingLimit)
        {
            _throttled = false;
            _loop.Post(new LoopInput(LoopInputKind.Kick, this, null, 0));
        }
    }

    public override void Close()
    {
        base.Close();
        _ring?.Dispose();
        _ring = null;
    }

    private uint PayloadLength => BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(12));

    private void ScheduleFlush()
    {
        if (!NeedsFlush)
        {
            NeedsFlush = true;
            FlushQueue?.Add(this);
        }
    }

    /// <summary>The guest asked for a fresh ring (XENSTORE_RECONNECT): its transactions and half-read data are gone.</summary>
    private void ResetByGuest(Span<byte> page)
    {
        Transactions.Clear();
        Output.Clear();
        _inFilled = 0;
        XenstoreRing.Write(page, XenstoreRing.ReqConsOffset, 0);
        XenstoreRing.Write(page, XenstoreRing.ReqProdOffset, 0);
        XenstoreRing.Write(page, XenstoreRing.RspConsOffset, 0);
        XenstoreRing.Write(page, XenstoreRing.RspProdOffset, 0);
        XenstoreRing.Write(page, XenstoreRing.ErrorOffset, 0);
        XenstoreRing.Write(page, XenstoreRing.ConnectionOffset, XenstoreDomainInterface.Connected);
        _notify = true;
    }

    /// <summary>The guest broke the protocol: tell it why in the page, and serve it no more.</summary>
    private void Stop(XenstoreRingError error)
    {
        Fault = error;
        XenstoreRing.Write(_ring!.Page, XenstoreRing.ErrorOffset, (uint)error);
        _ring.Notify();
        Transactions.Clear();
        Output.Clear();
        _inFilled = 0;
        var ring = _ring;
        _ring = null;
        ring.Dispose();
    }
}
