using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;
using Disagg.Netback.Switch;
using Disagg.Ring;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// One batch of the switch (io/netif.h, spec §9): waiting frames first, then up to <see cref="SwitchLoop.MaxBatch"/>
/// frames from the uplinks and the active vifs' tx rings (round robin, a budget per vif), checked before any copy,
/// copied in with one grant-copy submission, switched, copied out to their destinations (<see cref="RxCopies"/>),
/// and answered. Owns the batch's frame slots and tx copies; switching thread only, nothing allocates.
/// </summary>
internal sealed class SwitchTurn(IBackendChannel channel, SwitchPorts ports, UplinkGathering uplinks, RxCopies rx, ResponseSet responses)
{
    private const int PageSize = RingGeometry.PageSize;
    private readonly FrameSlot[] _frames = new FrameSlot[SwitchLoop.MaxBatch];
    private readonly GrantCopy[] _copies = new GrantCopy[channel.CopyRingEntries];
    private int _roundRobin;

    /// <summary>One batch; returns how many frames it moved (0: nothing to do).</summary>
    public int Run()
    {
        var copies = 0;
        // Waiting frames first (they came before this batch).
        var drained = rx.DrainBacklogs();
        if (drained > 0)
        {
            rx.Flush();
        }

        var frames = Announce();
        frames = uplinks.Gather(_frames, frames, SwitchLoop.MaxBatch);
        var active = ports.Active;
        var count = active.Count;
        for (var k = 0; k < count && frames < SwitchLoop.MaxBatch; k++)
        {
            var vif = active[(_roundRobin + k) % count];
            // The per-vif budget is for fairness between vifs with work; a vif alone may fill the batch.
            frames = GatherTx(vif, count == 1 ? SwitchLoop.MaxBatch : SwitchLoop.PerVifBudget, frames, ref copies);
        }

        _roundRobin = count == 0 ? 0 : (_roundRobin + 1) % count;
        if (frames == 0)
        {
            rx.Flush();
            responses.Publish(); // error responses to requests that carried no frame
            return drained;
        }

        if (copies > 0)
        {
            var first = GrantCopyBatch.SubmitAndWait(channel, _copies.AsSpan(0, copies));
            for (var i = 0; i < frames; i++)
            {
                ref var slot = ref _frames[i];
                slot.CopyStatus = slot.CopyIndex < 0 ? (short)GrantStatus.Okay : channel.CopyStatus(first + (uint)slot.CopyIndex);
            }
        }

        var now = SwitchLoop.NowNs();
        for (var i = 0; i < frames; i++)
        {
            Forward(ref _frames[i], now);
        }

        responses.PublishTx(); // the frontend may reuse its tx buffers now: the data is ours
        rx.Flush();
        responses.Publish();
        return frames;
    }

    /// <summary>
    /// The announcements of vifs attached since the last batch (<see cref="Announcement"/>), first in the batch:
    /// written straight into copy-buffer pages, switched as if the vif had sent them, answered to no one.
    /// </summary>
    private int Announce()
    {
        var pending = ports.Announcements;
        var frames = 0;
        while (pending.Count > 0 && frames < SwitchLoop.MaxBatch)
        {
            var vif = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            Announcement.Write(vif.Settings.Mac, channel.Buffer(frames, 1));
            ref var slot = ref _frames[frames];
            slot.Source = vif;
            slot.Uplink = null;
            slot.UplinkBridge = null;
            slot.RequestId = 0;
            slot.Flags = 0;
            slot.Size = Announcement.Length;
            slot.Page = frames;
            slot.CopyIndex = -1;
            slot.CopyStatus = (short)GrantStatus.Okay;
            slot.Announce = true;
            frames++;
        }

        return frames;
    }

    /// <summary>Takes up to the vif's budget of tx requests into the batch, answering bad ones at once.</summary>
    private int GatherTx(Vif vif, int budget, int frames, ref int copies)
    {
        var mtuLimit = Bridge.EthernetHeader + Bridge.VlanTag + vif.Settings.Mtu;
        while (budget > 0 && frames < SwitchLoop.MaxBatch)
        {
            NetifTxRequest req;
            if (vif.HasHeld)
            {
                req = vif.Held;
            }
            else if (!vif.Tx.TryTakeRequest(out req))
            {
                ports.CheckFault(vif);
                break;
            }

            budget--;
            if (vif.SkippingExtra)
            {
                vif.SkippingExtra = false;
                responses.Respond(vif, req.Id, NetifTxResponse.StatusNull);
                continue;
            }

            if (vif.SkippingChain)
            {
                vif.SkippingChain = (req.Flags & NetifTxRequest.FlagMoreData) != 0;
                responses.Respond(vif, req.Id, NetifTxResponse.StatusError);
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
                responses.Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (req.Size < Bridge.EthernetHeader || req.Size > mtuLimit)
            {
                stats.Errors++; // runt, or over the MTU: Bridge.Forward's rule, checked before any copy
                responses.Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (req.Offset + req.Size > PageSize)
            {
                stats.RequestErrors++; // the frame would run past the granted page
                responses.Respond(vif, req.Id, NetifTxResponse.StatusError);
                continue;
            }

            if (vif.RateLimit is { } bucket)
            {
                var now = SwitchLoop.NowNs();
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
            slot.Announce = false;
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

    private void Forward(ref FrameSlot slot, long now)
    {
        var source = slot.Source;
        if (source is not null && slot.CopyStatus != (short)GrantStatus.Okay)
        {
            // A bad grant reference (or one not granted to us, or read-only where it must not be): the kernel
            // refused the copy. The frontend gets an error for that request and nothing else happens.
            source.Port!.Statistics.RequestErrors++;
            responses.Respond(source, slot.RequestId, NetifTxResponse.StatusError);
            return;
        }

        SwitchBridge bridge;
        SwitchPort port;
        if (source is not null)
        {
            if (!source.Attached)
            {
                if (!slot.Announce)
                {
                    responses.Respond(source, slot.RequestId, NetifTxResponse.StatusDropped);
                }

                return;
            }

            bridge = source.Bridge!;
            port = source.Port!;
        }
        else
        {
            var uplink = slot.Uplink!;
            port = uplink.Port!;
            bridge = ports.BridgeNamed(uplink.Bridge);
        }

        var frame = channel.Buffer(slot.Page, 1)[..slot.Size];
        var destinations = ports.Destinations;
        var result = bridge.Bridge.Forward(port, frame, now, destinations, out var count);
        if (source is not null && !slot.Announce)
        {
            responses.Respond(source, slot.RequestId, result switch
            {
                ForwardResult.Malformed => NetifTxResponse.StatusError,
                ForwardResult.Spoofed => NetifTxResponse.StatusDropped,
                _ => NetifTxResponse.StatusOkay,
            });
        }

        // Checksums: a frame sent with csum_blank still lacks its checksum; the receiver must fill it in.
        var rxFlags = (slot.Flags & NetifTxRequest.FlagCsumBlank) != 0
            ? (ushort)(NetifRxResponse.FlagCsumBlank | NetifRxResponse.FlagDataValidated)
            : (slot.Flags & NetifTxRequest.FlagDataValidated) != 0 ? NetifRxResponse.FlagDataValidated : (ushort)0;
        for (var i = 0; i < count; i++)
        {
            var d = destinations[i];
            if (bridge.Vifs[d] is { } destination)
            {
                rx.Queue(destination, d, bridge.Bridge, ref slot, rxFlags);
            }
            else if (bridge.Uplinks[d] is { } tap)
            {
                if (tap.Device.TryWrite(frame))
                {
                    bridge.Bridge.RecordDelivered(d, slot.Size);
                }
                else
                {
                    bridge.Bridge.RecordDropped(d);
                }
            }
        }
    }
}
