using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;
using Disagg.Service;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// Grant copies on their way through the kernel's copy ring. The loop adds a group's copies, submits them
/// without waiting (a ticket: the ring index after them) and goes on with other work while the kernel copies;
/// it completes a ticket only when it needs that data. Each copy is remembered with the request it serves, so
/// a failed copy fails that request only. Arrays are sized once; nothing is allocated per request.
/// </summary>
internal sealed class CopyQueue
{
    private const int PageSize = 4096;
    /// <summary>
    /// A kernel that has not performed a batch of copies in this long is stuck; the loop gives up (the process
    /// exits and the supervisor restarts it; frontends reconnect and re-issue what was not answered).
    /// </summary>
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(30);

    private readonly IBackendChannel _channel;
    private readonly GrantCopy[] _ops;
    private readonly IoRequest[] _opOwners;
    private readonly IoRequest[] _ringOwners; // by ring index % entries, for copies submitted and not completed
    private int _count;
    private uint _submitted;
    private uint _completed;
    private bool _started;

    public CopyQueue(IBackendChannel channel, int capacity)
    {
        _channel = channel;
        _ops = new GrantCopy[capacity];
        _opOwners = new IoRequest[capacity];
        _ringOwners = new IoRequest[channel.CopyRingEntries];
    }

    public long Submitted { get; private set; }

    /// <summary>Copies one whole indirect descriptor page (or the used part of the last one) into the request's slot.</summary>
    public void AddDescriptorPage(IoRequest request, int index, int dataPages)
    {
        var used = Math.Min(BlkifRequestIndirect.SegmentsPerPage, request.SegmentCount - (index * BlkifRequestIndirect.SegmentsPerPage)) * 8;
        Add(request, request.IndirectRefs[index], 0, request.FirstPage + dataPages + index, 0, used, toGuest: false);
    }

    /// <summary>
    /// The request's segments, in order, between the frontend's pages and the slot's data pages, packed so the
    /// disk I/O is one contiguous span: a segment that straddles a buffer page boundary takes two copies.
    /// </summary>
    public void AddData(IoRequest request, bool toGuest)
    {
        var at = request.FirstPage * PageSize;
        for (var i = 0; i < request.SegmentCount; i++)
        {
            var s = request.Segments[i];
            var length = (s.LastSect - s.FirstSect + 1) * BlkifRequest.SectorSize;
            var guestOffset = s.FirstSect * BlkifRequest.SectorSize;
            var first = Math.Min(length, PageSize - (at % PageSize));
            Add(request, s.Gref, guestOffset, at / PageSize, at % PageSize, first, toGuest);
            if (first < length)
            {
                Add(request, s.Gref, guestOffset + first, (at / PageSize) + 1, 0, length - first, toGuest);
            }

            at += length;
        }
    }

    /// <summary>
    /// Hands every added copy to the kernel (waiting only when the ring is full) and returns the ticket that
    /// <see cref="Complete"/> takes: once it is complete, so is every copy added before this call.
    /// </summary>
    public uint Submit()
    {
        var entries = _ringOwners.Length;
        var at = 0;
        while (at < _count)
        {
            var free = entries - (int)(_submitted - _completed);
            if (free == 0)
            {
                Complete(_submitted);
                continue;
            }

            var chunk = Math.Min(free, _count - at);
            if (!_channel.TrySubmitCopies(_ops.AsSpan(at, chunk), out var end))
            {
                // Only this thread submits and the kernel has performed everything up to _completed, so there is room.
                throw new InvalidOperationException($"copy ring refused {chunk} copies with {free} slots free");
            }

            if (!_started)
            {
                _started = true;
                _completed = end - (uint)chunk; // the ring's indices are free-running and may not start at 0
            }

            for (var i = 0; i < chunk; i++)
            {
                _ringOwners[(end - (uint)chunk + (uint)i) % (uint)entries] = _opOwners[at + i];
                _opOwners[at + i] = null!;
            }

            _submitted = end;
            Submitted += chunk;
            at += chunk;
        }

        _count = 0;
        return _submitted;
    }

    /// <summary>Whether the copies before <paramref name="ticket"/> are done (no wait, no system call).</summary>
    public bool IsDone(uint ticket) => (int)(ticket - _completed) <= 0 || _channel.CopiesDone(ticket);

    /// <summary>Waits for the copies before <paramref name="ticket"/>; a request with a failed copy gets BLKIF_RSP_ERROR.</summary>
    public void Complete(uint ticket)
    {
        if ((int)(ticket - _completed) <= 0)
        {
            return;
        }

        if (!_channel.WaitForCopies(ticket, CopyTimeout))
        {
            throw new TimeoutException($"the kernel performed no grant copy up to ring index {ticket} in {CopyTimeout.TotalSeconds} s");
        }

        var entries = (uint)_ringOwners.Length;
        for (; _completed != ticket; _completed++)
        {
            ref var owner = ref _ringOwners[_completed % entries];
            var status = _channel.CopyStatus(_completed);
            if (status != 0)
            {
                owner.Device.Counters.CopyFailures++;
                owner.Fail(BlkifResponse.StatusError, $"grant copy {_completed}: {(GrantStatus)status}");
            }

            owner = null!;
        }
    }

    private void Add(IoRequest request, uint gref, int guestOffset, int bufferPage, int bufferOffset, int length, bool toGuest)
    {
        if (_count == _ops.Length)
        {
            Submit(); // earlier copies first: only ever moves them sooner, never reorders a request's own copies
        }

        var guest = new GrantCopyPtr { RefOrFrame = gref, DomId = (ushort)request.Device.FrontendDomain, Offset = (ushort)guestOffset };
        var local = new GrantCopyPtr { RefOrFrame = (ulong)bufferPage, DomId = DomainIds.Self, Offset = (ushort)bufferOffset };
        _ops[_count] = toGuest
            ? new GrantCopy { Source = local, Dest = guest, Len = (ushort)length, Flags = GrantCopy.DestGref }
            : new GrantCopy { Source = guest, Dest = local, Len = (ushort)length, Flags = GrantCopy.SourceGref };
        _opOwners[_count++] = request;
    }
}
