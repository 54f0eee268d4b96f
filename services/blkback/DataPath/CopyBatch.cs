using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.Abi.Io;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// Grant copies collected for a batch of requests and performed together (one submission and one wait per
/// copy-ring's worth), each remembered with the request it serves so a failed copy fails that request only.
/// Arrays are sized once; nothing is allocated per request.
/// </summary>
internal sealed class CopyBatch(IBackendChannel channel, int capacity)
{
    private const int PageSize = 4096;
    private readonly GrantCopy[] _ops = new GrantCopy[capacity];
    private readonly IoRequest[] _owners = new IoRequest[capacity];
    private readonly short[] _status = new short[capacity];
    private int _count;

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

    /// <summary>Performs every collected copy; a request with a failed copy gets BLKIF_RSP_ERROR.</summary>
    public void Run()
    {
        if (_count == 0)
        {
            return;
        }

        channel.Copy(_ops.AsSpan(0, _count), _status.AsSpan(0, _count));
        Submitted += _count;
        for (var i = 0; i < _count; i++)
        {
            if (_status[i] != 0)
            {
                var owner = _owners[i];
                owner.Device.Counters.CopyFailures++;
                owner.Fail(BlkifResponse.StatusError, $"grant {_ops[i].Source.RefOrFrame}/{_ops[i].Dest.RefOrFrame} copy: {(GrantStatus)_status[i]}");
            }

            _owners[i] = null!;
        }

        _count = 0;
    }

    private void Add(IoRequest request, uint gref, int guestOffset, int bufferPage, int bufferOffset, int length, bool toGuest)
    {
        if (_count == _ops.Length)
        {
            Run(); // earlier copies first: only ever moves them sooner, never reorders a request's own copies
        }

        var guest = new GrantCopyPtr { RefOrFrame = gref, DomId = (ushort)request.Device.FrontendDomain, Offset = (ushort)guestOffset };
        var local = new GrantCopyPtr { RefOrFrame = (ulong)bufferPage, DomId = DomainIds.Self, Offset = (ushort)bufferOffset };
        _ops[_count] = toGuest
            ? new GrantCopy { Source = local, Dest = guest, Len = (ushort)length, Flags = GrantCopy.DestGref }
            : new GrantCopy { Source = guest, Dest = local, Len = (ushort)length, Flags = GrantCopy.SourceGref };
        _owners[_count++] = request;
    }
}
