using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;
using Disagg.Netback.Switch;
using Disagg.Ring;

namespace Disagg.Netback.Datapath;

/// <summary>A turn's first half: taking tx requests, checking them, copying frames in (io/netif.h, spec §9).</summary>
public sealed partial class SwitchLoop
{
    private const int PageSize = RingGeometry.PageSize;

    /// <summary>One batch; returns how many frames it moved (0: nothing to do).</summary>
    private int Turn()
    {
        var frames = 0;
        var copies = 0;
        // Waiting frames first (they came before this batch), and copied before the tx copies reuse the ring's slots.
        var drained = DrainBacklogs();
        if (drained > 0)
        {
            FlushRx();
        }

        frames = GatherUplinks(frames);
        var count = _active.Count;
        for (var k = 0; k < count && frames < MaxBatch; k++)
        {
            var vif = _active[(_roundRobin + k) % count];
            // The per-vif budget is for fairness between vifs with work; a vif alone may fill the batch.
            frames = GatherTx(vif, count == 1 ? MaxBatch : PerVifBudget, frames, ref copies);
        }

        _roundRobin = count == 0 ? 0 : (_roundRobin + 1) % count;
        if (frames == 0)
        {
            FlushRx();
            PublishResponses(); // error responses to requests that carried no frame
            return drained;
        }

        if (copies > 0)
        {
            var first = SubmitAndWait(copies);
            for (var i = 0; i < frames; i++)
            {
                // Read now: the rx copies below reuse the copy ring's slots.
                ref var slot = ref _frames[i];
                slot.CopyStatus = slot.CopyIndex < 0 ? (short)GrantStatus.Okay : _kernel.CopyStatus(first + (uint)slot.CopyIndex);
            }
        }

        var now = NowNs();
        for (var i = 0; i < frames; i++)
        {
            Forward(ref _frames[i], now);
        }

        PublishTxResponses(); // the frontend may reuse its tx buffers now: the data is ours
        FlushRx();
        PublishResponses();
        return frames;
    }

    /// <summary>Takes up to the vif's budget of tx requests into the batch, answering bad ones at once.</summary>
    private int GatherTx(Vif vif, int budget, int frames, ref int copies)
    {
        var mtuLimit = Bridge.EthernetHeader + Bridge.VlanTag + vif.Settings.Mtu;
        while (budget > 0 && frames < MaxBatch)
        {
            NetifTxRequest req;
            if (vif.HasHeld)
            {
                req = vif.Held;
            }
            else if (!vif.Tx.TryTakeRequest(out req))
            {
                CheckFault(vif);
                break;
            }

            budget--;
            if (vif.SkippingExtra)
            {
                vif.SkippingExtra = false;
                Respond(vif, req.Id, NetifTxResponse.StatusNull);
                continue;
            }

            if (vif.SkippingChain)
            {
                vif.SkippingChain = (req.Flags & NetifTxRequest.FlagMoreData) != 0;
                Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            var stats = vif.Port!.Statistics;
            if ((req.Flags & (NetifTxRequest.FlagMoreData | NetifTxRequest.FlagExtraInfo)) != 0)
            {
                // Multi-slot packets and extra-info slots are features we did not offer (feature-sg=0, no GSO):
                // refuse the packet, and answer its remaining slots as they come.
                vif.SkippingExtra = (req.Flags & NetifTxRequest.FlagExtraInfo) != 0;
                vif.SkippingChain = (req.Flags & NetifTxRequest.FlagMoreData) != 0;
                stats.RequestErrors++;
                Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (req.Size < Bridge.EthernetHeader || req.Size > mtuLimit)
            {
                stats.Errors++; // runt, or over the MTU: Bridge.Forward's rule, checked before any copy
                Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (req.Offset + req.Size > PageSize)
            {
                stats.RequestErrors++; // the frame would run past the granted page
                Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (vif.RateLimit is { } bucket)
            {
                var now = NowNs();
                if (!bucket.TryConsume(req.Size, now))
                {
                    vif.Held = req;
                    vif.HasHeld = true;
                    vif.HeldUntilNs = bucket.NextRefillNs;
                    break;
                }
            }

            vif.HasHeld = false;
            ref var slot = ref _frames[frames];
            slot.Source = vif;
            slot.Uplink = null;
            slot.UplinkBridge = null;
            slot.RequestId = req.Id;
            slot.Flags = req.Flags;
            slot.Size = req.Size;
            slot.Page = frames;
            slot.CopyIndex = copies;
            ref var copy = ref _copies[copies++];
            copy.Source.RefOrFrame = req.Gref;
            copy.Source.DomId = (ushort)vif.FrontendDomain;
            copy.Source.Offset = req.Offset;
            copy.Dest.RefOrFrame = (ulong)frames;
            copy.Dest.DomId = DomainIds.Self;
            copy.Dest.Offset = 0;
            copy.Len = req.Size;
            copy.Flags = GrantCopy.SourceGref;
            copy.Status = 0;
            frames++;
        }

        return frames;
    }

    /// <summary>Frames the host sent into a bridge through its TAP device: read straight into the copy buffer.</summary>
    private int GatherUplinks(int frames)
    {
        foreach (var uplink in _uplinks)
        {
            while (frames < MaxBatch)
            {
                var size = uplink.Device.TryRead(_kernel.Buffer(frames, 1));
                if (size == 0)
                {
                    break;
                }

                ref var slot = ref _frames[frames];
                slot.CopyStatus = 0;
                slot.Source = null;
                slot.Uplink = uplink;
                slot.RequestId = 0;
                slot.Flags = 0;
                slot.Size = size;
                slot.Page = frames;
                slot.CopyIndex = -1;
                frames++;
            }
        }

        return frames;
    }

    private void Respond(Vif vif, ushort id, short status)
    {
        ref var rsp = ref vif.Tx.NextResponse();
        rsp.Id = id;
        rsp.Status = status;
        if (!vif.TxResponsesPending)
        {
            vif.TxResponsesPending = true;
            Touch(vif);
        }
    }

    private void Touch(Vif vif)
    {
        if (!vif.Touched)
        {
            vif.Touched = true;
            _touched.Add(vif);
        }
    }

    /// <summary>Submits the batch's copies and waits for the kernel to perform them; returns the first copy's number.</summary>
    private uint SubmitAndWait(int copies)
    {
        if (!_kernel.TrySubmitCopies(_copies.AsSpan(0, copies), out var end))
        {
            throw new SwitchStalledException("the grant-copy ring has no room although every earlier copy is done");
        }

        if (!_kernel.CopiesDone(end) && !_kernel.WaitForCopies(end, CopyTimeout))
        {
            throw new SwitchStalledException($"the kernel performed no grant copy in {CopyTimeout.TotalSeconds} s");
        }

        return end - (uint)copies;
    }

    private void CheckFault(Vif vif)
    {
        var fault = vif.Tx.Fault != RingFault.None ? vif.Tx.Fault : vif.Rx.Fault;
        if (fault == RingFault.None || vif.Fault != RingFault.None)
        {
            return;
        }

        // A frontend that wrote garbage ring indices: stop serving it (after this turn), keep serving everyone else.
        vif.Fault = fault;
        _faulted.Add(vif);
    }

    private void DetachFaulted()
    {
        foreach (var vif in _faulted)
        {
            Detach(vif);
            _faults.Writer.TryWrite(vif);
        }

        _faulted.Clear();
    }
}
