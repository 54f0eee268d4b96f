using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;
using Disagg.Netback.Switch;

namespace Disagg.Netback.Datapath;

/// <summary>A turn's second half: switching each frame and copying it into its destinations' rx buffers.</summary>
public sealed partial class SwitchLoop
{
    private void Forward(ref FrameSlot slot, long now)
    {
        var source = slot.Source;
        if (source is not null && slot.CopyStatus != (short)GrantStatus.Okay)
        {
            // A bad grant reference (or one not granted to us, or read-only where it must not be): the kernel
            // refused the copy. The frontend gets an error for that request and nothing else happens.
            source.Port!.Statistics.RequestErrors++;
            Respond(source, slot.RequestId, NetifTxResponse.StatusError);
            return;
        }

        SwitchBridge bridge;
        SwitchPort port;
        if (source is not null)
        {
            if (!source.Attached)
            {
                Respond(source, slot.RequestId, NetifTxResponse.StatusDropped);
                return;
            }

            bridge = source.Bridge!;
            port = source.Port!;
        }
        else
        {
            var uplink = slot.Uplink!;
            port = uplink.Port!;
            bridge = BridgeNamed(uplink.Bridge);
        }

        var frame = _kernel.Buffer(slot.Page, 1)[..slot.Size];
        var result = bridge.Bridge.Forward(port, frame, now, _destinations, out var count);
        if (source is not null)
        {
            Respond(source, slot.RequestId, result switch
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
            var d = _destinations[i];
            if (bridge.Vifs[d] is { } destination)
            {
                QueueRx(destination, d, bridge.Bridge, ref slot, rxFlags);
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

    /// <summary>
    /// Takes one of the destination's posted rx buffers and queues the copy into it. With none posted (or frames
    /// already waiting, which go first), the frame waits in the vif's backlog; a full backlog drops it.
    /// </summary>
    private void QueueRx(Vif destination, int portIndex, Bridge bridge, ref FrameSlot slot, ushort flags)
    {
        if (destination.Backlog.Count == 0 && destination.Rx.TryTakeRequest(out var req))
        {
            QueueRxCopy(destination, req, slot.Page, slot.Size, flags, backlogPage: -1);
            return;
        }

        CheckFault(destination);
        if (destination.Backlog.IsFull || _backlogFreeCount == 0)
        {
            destination.Port!.Statistics.RxNoBuffer++;
            bridge.RecordDropped(portIndex);
            return;
        }

        var page = _backlogFree[--_backlogFreeCount];
        _kernel.Buffer(slot.Page, 1)[..slot.Size].CopyTo(_kernel.Buffer(page, 1));
        destination.Backlog.Enqueue(page, slot.Size, flags);
        destination.Port!.Statistics.RxBacklogged++;
        if (!destination.Backlog.Listed)
        {
            destination.Backlog.Listed = true;
            _backlogged.Add(destination);
        }
    }

    /// <summary>Queues backlogged frames into the rx buffers their frontends have posted since; returns how many.</summary>
    private int DrainBacklogs()
    {
        var n = 0;
        for (var i = _backlogged.Count - 1; i >= 0; i--)
        {
            var vif = _backlogged[i];
            while (vif.Backlog.Count > 0 && vif.Rx.TryTakeRequest(out var req))
            {
                vif.Backlog.Dequeue(out var page, out var size, out var flags);
                QueueRxCopy(vif, req, page, size, flags, backlogPage: page);
                n++;
            }

            if (vif.Backlog.Count == 0)
            {
                vif.Backlog.Listed = false;
                _backlogged.RemoveAt(i);
            }
            else
            {
                CheckFault(vif);
            }
        }

        return n;
    }

    private void QueueRxCopy(Vif destination, NetifRxRequest req, int page, int size, ushort flags, int backlogPage)
    {
        if (_rxCount == _rx.Length)
        {
            FlushRx();
        }

        ref var copy = ref _copies[_rxCount];
        copy.Source.RefOrFrame = (ulong)page;
        copy.Source.DomId = DomainIds.Self;
        copy.Source.Offset = 0;
        copy.Dest.RefOrFrame = req.Gref;
        copy.Dest.DomId = (ushort)destination.FrontendDomain;
        copy.Dest.Offset = 0;
        copy.Len = (ushort)size;
        copy.Flags = GrantCopy.DestGref;
        copy.Status = 0;
        ref var rx = ref _rx[_rxCount++];
        rx.Destination = destination;
        rx.RequestId = req.Id;
        rx.Flags = flags;
        rx.Size = size;
        rx.BacklogPage = backlogPage;
    }

    /// <summary>Performs the queued rx copies and answers each rx request: the byte count, or an error if the copy was refused.</summary>
    private void FlushRx()
    {
        if (_rxCount == 0)
        {
            return;
        }

        var first = SubmitAndWait(_rxCount);
        for (var i = 0; i < _rxCount; i++)
        {
            ref var rx = ref _rx[i];
            var vif = rx.Destination;
            ref var rsp = ref vif.Rx.NextResponse();
            rsp.Id = rx.RequestId;
            rsp.Offset = 0;
            if (_kernel.CopyStatus(first + (uint)i) == (short)GrantStatus.Okay)
            {
                rsp.Flags = rx.Flags;
                rsp.Status = (short)rx.Size;
                if (vif.Attached)
                {
                    vif.Bridge!.Bridge.RecordDelivered(vif.Port!.Index, rx.Size);
                }
            }
            else
            {
                // The receiving frontend posted a bad grant: its problem, answered as an error on its ring.
                rsp.Flags = 0;
                rsp.Status = NetifTxResponse.StatusError;
                vif.Port!.Statistics.RequestErrors++;
            }

            vif.RxResponsesPending = true;
            Touch(vif);
            rx.Destination = null!;
            if (rx.BacklogPage >= 0)
            {
                _backlogFree[_backlogFreeCount++] = rx.BacklogPage; // copied: the page is free again
            }
        }

        _rxCount = 0;
    }

    private void PublishTxResponses()
    {
        foreach (var vif in _touched)
        {
            if (vif.TxResponsesPending)
            {
                vif.TxResponsesPending = false;
                vif.NotifyTxOwed |= vif.Tx.PushResponses();
            }
        }
    }

    /// <summary>Publishes every touched vif's responses and sends at most one event per ring, only if the frontend asked.</summary>
    private void PublishResponses()
    {
        PublishTxResponses();
        foreach (var vif in _touched)
        {
            if (vif.RxResponsesPending)
            {
                vif.RxResponsesPending = false;
                vif.NotifyRxOwed |= vif.Rx.PushResponses();
            }

            // One event per port: with one event channel, the rx send also tells the frontend about tx responses.
            if (vif.NotifyTxOwed && (!vif.NotifyRxOwed || vif.TxPort != vif.RxPort))
            {
                _kernel.Notify(vif.TxPort);
            }

            if (vif.NotifyRxOwed)
            {
                _kernel.Notify(vif.RxPort);
            }

            vif.NotifyTxOwed = vif.NotifyRxOwed = false;
            vif.Touched = false;
        }

        _touched.Clear();
    }
}
