using Disagg.Abi.Io;
using Disagg.Ring;

namespace Disagg.Blkback.DataPath;

/// <summary>A batch: take from every ring, copy in, do the I/O, copy out, answer.</summary>
internal sealed partial class IoLoop
{
    /// <summary>
    /// Requests per pipeline stage: 8, or 16 when the batch is more than a one-page ring holds. The kernel copies one group while the loop
    /// does the next group's I/O, and each group is answered as soon as its data has moved, so the frontend
    /// refills its ring while the rest of the batch is still being served (both CPUs busy instead of taking
    /// turns). A one-page ring's 32 requests go best in groups of 8 and a four-page ring's 128 in groups of 16
    /// (docs/PERFORMANCE.md, blkback): smaller groups cost a copy-ring round trip each, larger ones starve the
    /// frontend.
    /// </summary>
    private const int MinGroupRequests = 8;

    private const int MaxGroupRequests = 16;

    private int _groupRequests = MinGroupRequests;

    private bool ServeBatch()
    {
        var n = TakeRequests(out var taken);
        if (taken > 0)
        {
            // Published for the status file; read there without a lock (the loop thread is the only writer).
            Volatile.Write(ref _batches, _batches + 1);
            Volatile.Write(ref _requestsTaken, _requestsTaken + taken);
            Volatile.Write(ref _allocated, GC.GetAllocatedBytesForCurrentThread());
        }

        if (n == 0)
        {
            return false;
        }

        var batch = _batch.AsSpan(0, n);
        LoadIndirectSegments(batch);

        _groupRequests = n > 32 ? MaxGroupRequests : MinGroupRequests;
        var groups = (n + _groupRequests - 1) / _groupRequests;
        var dataIn = SubmitWriteData(batch, 0);
        for (var g = 0; g < groups; g++)
        {
            var nextIn = g + 1 < groups ? SubmitWriteData(batch, g + 1) : 0;
            _copies.Complete(dataIn);
            var group = Group(batch, g);
            DoGroupIo(group);
            _reads.Add(_copies.Submit(), group);
            AnswerReads(waitForOldest: false);
            PushResponses();
            dataIn = nextIn;
        }

        // Reads still copying are answered by a later turn: the loop takes new requests meanwhile.
        batch.Clear();
        return true;
    }

    /// <summary>
    /// Answers pending read groups whose data is back in the frontend's pages, oldest first; with
    /// <paramref name="waitForOldest"/>, waits for the oldest group's copies first. True if any was answered.
    /// </summary>
    private bool AnswerReads(bool waitForOldest)
    {
        var any = false;
        while (_reads.Count > 0)
        {
            var ticket = _reads.OldestTicket;
            if (!(waitForOldest && !any) && !_copies.IsDone(ticket))
            {
                break;
            }

            _copies.Complete(ticket);
            foreach (var r in _reads.Oldest)
            {
                Respond(r);
            }

            _reads.RemoveOldest();
            any = true;
        }

        return any;
    }

    private Span<IoRequest> Group(Span<IoRequest> batch, int g) =>
        batch.Slice(g * _groupRequests, Math.Min(_groupRequests, batch.Length - (g * _groupRequests)));

    /// <summary>Indirect requests: their segment descriptors live in granted pages, needed before anything else.</summary>
    private void LoadIndirectSegments(Span<IoRequest> batch)
    {
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

        if (!indirect)
        {
            return;
        }

        _copies.Complete(_copies.Submit());
        foreach (var r in batch)
        {
            if (r.IndirectPages > 0 && r.Status == BlkifResponse.StatusOkay)
            {
                RequestParser.TryIndirectSegments(_channel.Buffer(r.FirstPage + DataPages, r.IndirectPages), r.Device, r);
            }
        }
    }

    /// <summary>Data to be written comes from the frontend's pages into the slots of group <paramref name="g"/>; returns its ticket.</summary>
    private uint SubmitWriteData(Span<IoRequest> batch, int g)
    {
        foreach (var r in Group(batch, g))
        {
            if (r.Status == BlkifResponse.StatusOkay && r.MovesData && r.Kind != BlkifOperation.Read)
            {
                _copies.AddData(r, toGuest: false);
            }
        }

        return _copies.Submit();
    }

    /// <summary>
    /// The I/O of one group, in ring order. A write is answered once pwrite returned (the data is in the file);
    /// a read's data is queued to go back to the frontend; what waits for the disk goes to a worker.
    /// </summary>
    private void DoGroupIo(Span<IoRequest> group)
    {
        foreach (var r in group)
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
    }

    /// <summary>
    /// Takes requests from every serving ring while buffer slots last; refused ones are answered at once. Returns
    /// how many went into the batch; <paramref name="taken"/> counts the refused ones too.
    /// </summary>
    private int TakeRequests(out int taken)
    {
        var n = 0;
        taken = 0;
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
                taken++;
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
