using Disagg.Abi.Io;
using Disagg.Ring;

namespace Disagg.Blkback.DataPath;

/// <summary>A batch: take from every ring, copy in, do the I/O, copy out, answer.</summary>
internal sealed partial class IoLoop
{
    private bool ServeBatch()
    {
        var n = TakeRequests();
        if (n == 0)
        {
            return false;
        }

        var batch = _batch.AsSpan(0, n);

        // 1. Indirect requests: their segment descriptors live in granted pages.
        var indirect = false;
        foreach (var r in batch)
        {
            if (r.IndirectPages > 0 && r.Status == BlkifResponse.StatusOkay)
            {
                indirect = true;
                for (var p = 0; p < r.IndirectPages; p++)
                {
                    _copies.AddDescriptorPage(r, p, DataPages);
                }
            }
        }

        if (indirect)
        {
            _copies.Run();
            foreach (var r in batch)
            {
                if (r.IndirectPages > 0 && r.Status == BlkifResponse.StatusOkay)
                {
                    RequestParser.TryIndirectSegments(_channel.Buffer(r.FirstPage + DataPages, r.IndirectPages), r.Device, r);
                }
            }
        }

        // 2. Data to be written comes from the frontend's pages into the slots.
        foreach (var r in batch)
        {
            if (r.Status == BlkifResponse.StatusOkay && r.MovesData && r.Kind != BlkifOperation.Read)
            {
                _copies.AddData(r, toGuest: false);
            }
        }

        _copies.Run();

        // 3. The I/O. A write is answered once pwrite returned (the data is in the file); what waits for the disk goes to a worker.
        foreach (var r in batch)
        {
            if (r.Status != BlkifResponse.StatusOkay)
            {
                Respond(r);
                continue;
            }

            switch (r.Kind)
            {
                case BlkifOperation.Read:
                    if (DoIo(r))
                    {
                        _copies.AddData(r, toGuest: true);
                    }

                    break;
                case BlkifOperation.Write:
                    DoIo(r);
                    Respond(r);
                    break;
                case BlkifOperation.WriteBarrier:
                    if (r.SegmentCount > 0 && !DoIo(r))
                    {
                        Respond(r);
                    }
                    else if (r.Device.SlowInFlight > 0)
                    {
                        r.Device.HeldBarrier = r; // everything before the barrier completes first
                        r.InBatch = false;
                    }
                    else
                    {
                        Dispatch(r);
                    }

                    break;
                default:
                    Dispatch(r);
                    break;
            }
        }

        // 4. Read data goes back to the frontend's pages, then the reads are answered.
        _copies.Run();
        foreach (var r in batch)
        {
            if (r.Kind == BlkifOperation.Read && r.InBatch)
            {
                Respond(r);
            }
        }

        batch.Clear();
        return true;
    }

    /// <summary>Takes requests from every serving ring while buffer slots last; refused ones are answered at once.</summary>
    private int TakeRequests()
    {
        var n = 0;
        foreach (var d in _devices)
        {
            if (!d.Serving || d.BarrierBlocked)
            {
                continue;
            }

            while (_freeCount > 0 && d.Ring.TryTakeRequest(out var raw))
            {
                var r = Rent(d);
                d.InFlight++;
                d.Counters.Requests++;
                if (!RequestParser.TryParse(raw, d, r))
                {
                    d.Counters.Refused++;
                    Respond(r);
                    continue;
                }

                r.InBatch = true;
                _batch[n++] = r;
                if (r.Kind == BlkifOperation.WriteBarrier)
                {
                    d.BarrierBlocked = true;
                    break;
                }
            }

            if (d.Ring.Fault != RingFault.None && d.FaultReason is null)
            {
                d.FaultReason = $"ring {d.Ring.Fault}: the frontend's req_prod is more than {d.Ring.Size} requests ahead of what we consumed";
                _faulted(d);
            }
        }

        return n;
    }

    private bool DoIo(IoRequest r)
    {
        var d = r.Device;
        var data = _channel.Buffer(r.FirstPage, DataPages)[..r.DataBytes];
        try
        {
            if (r.Kind == BlkifOperation.Read)
            {
                d.Image.Read(r.Sector, data);
                d.Counters.Reads++;
                d.Counters.SectorsRead += r.Sectors;
            }
            else
            {
                d.Image.Write(r.Sector, data);
                d.Counters.Writes++;
                d.Counters.SectorsWritten += r.Sectors;
            }

            return true;
        }
        catch (IOException e)
        {
            d.Counters.IoFailures++;
            r.Fail(BlkifResponse.StatusError, e.Message);
            return false;
        }
    }

    private void Dispatch(IoRequest r)
    {
        r.Device.SlowInFlight++;
        r.InBatch = false;
        if (r.Kind == BlkifOperation.Discard)
        {
            r.Device.Counters.Discards++;
        }
        else
        {
            r.Device.Counters.Flushes++;
        }

        ThreadPool.UnsafeQueueUserWorkItem(r, preferLocal: false);
    }

    /// <summary>Writes the response into the next slot (ids may complete in any order) and gives the request back.</summary>
    private void Respond(IoRequest r)
    {
        var d = r.Device;
        ref var rsp = ref d.Ring.NextResponse();
        rsp.Id = r.Id;
        rsp.Operation = r.WireOperation;
        rsp.Status = r.Status;
        d.ResponsesToPush = true;
        d.InFlight--;
        if (r.Kind == BlkifOperation.WriteBarrier)
        {
            d.BarrierBlocked = false; // answered (done or refused): requests after it may be taken
        }

        r.InBatch = false;
        r.Device = null!;
        _free[_freeCount++] = r.Slot;
    }

    private IoRequest Rent(VbdRing device)
    {
        var r = _requests[_free[--_freeCount]];
        r.Reset(device);
        return r;
    }
}
