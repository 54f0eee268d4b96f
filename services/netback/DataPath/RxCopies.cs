using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;
using Disagg.Netback.Switch;
using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The rx half of a turn: each switched frame is copied into one of its destination's posted rx buffers (or
/// waits in the vif's backlog when none is posted, as Linux netback's rx queue), the copies go to the kernel in
/// submissions of up to the copy ring's size, and each rx request is answered with the byte count. Switching
/// thread only; fixed arrays.
/// </summary>
internal sealed class RxCopies(IBackendChannel channel, RxBacklogPool backlog, ResponseSet responses, SwitchPorts ports)
{
    private readonly GrantCopy[] _copies = new GrantCopy[channel.CopyRingEntries];
    private readonly RxDelivery[] _rx = new RxDelivery[channel.CopyRingEntries];
    private int _count;

    /// <summary>
    /// Takes one of the destination's posted rx buffers and queues the copy into it. With none posted (or frames
    /// already waiting, which go first), the frame waits in the vif's backlog; a full backlog drops it.
    /// </summary>
    public void Queue(Vif destination, int portIndex, Bridge bridge, ref FrameSlot slot, ushort flags)
    {
        if (destination.Backlog.Count == 0 && destination.Rx.TryTakeRequest(out var req))
        {
            QueueCopy(destination, req, slot.Page, slot.Size, flags, backlogPage: -1);
            return;
        }

        ports.CheckFault(destination);
        if (!backlog.TryHold(destination, channel.Buffer(slot.Page, 1)[..slot.Size], flags))
        {
            destination.Port!.Statistics.RxNoBuffer++;
            bridge.RecordDropped(portIndex);
            return;
        }

        destination.Port!.Statistics.RxBacklogged++;
    }

    /// <summary>Queues backlogged frames into the rx buffers their frontends have posted since; returns how many.</summary>
    public int DrainBacklogs()
    {
        var n = 0;
        var backlogged = backlog.Backlogged;
        for (var i = backlogged.Count - 1; i >= 0; i--)
        {
            var vif = backlogged[i];
            while (vif.Backlog.Count > 0 && vif.Rx.TryTakeRequest(out var req))
            {
                vif.Backlog.Dequeue(out var page, out var size, out var flags);
                QueueCopy(vif, req, page, size, flags, backlogPage: page);
                n++;
            }

            if (vif.Backlog.Count == 0)
            {
                vif.Backlog.Listed = false;
                backlogged.RemoveAt(i);
            }
            else
            {
                ports.CheckFault(vif);
            }
        }

        return n;
    }

    /// <summary>Performs the queued rx copies and answers each rx request: the byte count, or an error if the copy was refused.</summary>
    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }

        var first = GrantCopyBatch.SubmitAndWait(channel, _copies.AsSpan(0, _count));
        for (var i = 0; i < _count; i++)
        {
            ref var rx = ref _rx[i];
            var vif = rx.Destination;
            ref var rsp = ref vif.Rx.NextResponse();
            rsp.Id = rx.RequestId;
            rsp.Offset = 0;
            if (channel.CopyStatus(first + (uint)i) == (short)GrantStatus.Okay)
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
            responses.Touch(vif);
            rx.Destination = null!;
            if (rx.BacklogPage >= 0)
            {
                backlog.Return(rx.BacklogPage); // copied: the page is free again
            }
        }

        _count = 0;
    }

    private void QueueCopy(Vif destination, NetifRxRequest req, int page, int size, ushort flags, int backlogPage)
    {
        if (_count == _rx.Length)
        {
            Flush();
        }

        ref var copy = ref _copies[_count];
        copy.Source.RefOrFrame = (ulong)page;
        copy.Source.DomId = DomainIds.Self;
        copy.Source.Offset = 0;
        copy.Dest.RefOrFrame = req.Gref;
        copy.Dest.DomId = (ushort)destination.FrontendDomain;
        copy.Dest.Offset = 0;
        copy.Len = (ushort)size;
        copy.Flags = GrantCopy.DestGref;
        copy.Status = 0;
        ref var rx = ref _rx[_count++];
        rx.Destination = destination;
        rx.RequestId = req.Id;
        rx.Flags = flags;
        rx.Size = size;
        rx.BacklogPage = backlogPage;
    }
}
