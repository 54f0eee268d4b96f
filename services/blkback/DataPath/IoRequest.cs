using Disagg.Abi.Io;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// One blkif request in flight: what the frontend asked (checked), where its data sits in the copy buffer,
/// and its status. Pooled: one per buffer slot, created once, so the data path allocates nothing per request.
/// Owned by the I/O loop, except while a worker runs a slow operation (<see cref="Execute"/>).
/// </summary>
internal sealed class IoRequest : IThreadPoolWorkItem
{
    public IoRequest(int slot, int firstPage, int maxSegments, IoLoop loop)
    {
        Slot = slot;
        FirstPage = firstPage;
        Segments = new BlkifSegment[maxSegments];
        Loop = loop;
    }

    /// <summary>Index of the buffer slot this request owns for its whole life.</summary>
    public int Slot { get; }

    /// <summary>First copy buffer page of the slot: data pages, then the indirect descriptor pages.</summary>
    public int FirstPage { get; }

    public IoLoop Loop { get; }

    public BlkifSegment[] Segments { get; }

    public uint[] IndirectRefs { get; } = new uint[BlkifRequestIndirect.MaxIndirectPages];

    public VbdRing Device { get; set; } = null!;

    public ulong Id { get; set; }

    /// <summary>The operation byte as the frontend sent it: echoed in the response (indirect stays indirect).</summary>
    public byte WireOperation { get; set; }

    /// <summary>What is done: read, write, barrier, flush or discard (an indirect request's inner operation).</summary>
    public BlkifOperation Kind { get; set; }

    public long Sector { get; set; }

    /// <summary>Data sectors (read/write/barrier), or sectors to discard.</summary>
    public long Sectors { get; set; }

    public int SegmentCount { get; set; }

    public int IndirectPages { get; set; }

    public short Status { get; set; }

    /// <summary>Part of the loop's current batch and not answered yet.</summary>
    public bool InBatch { get; set; }

    /// <summary>Set when a copy or the I/O failed; the reason is counted and logged at Debug by the loop.</summary>
    public string? Failure { get; set; }

    public int DataBytes => (int)(Sectors * BlkifRequest.SectorSize);

    public bool MovesData => Kind is BlkifOperation.Read or BlkifOperation.Write or BlkifOperation.WriteBarrier && SegmentCount > 0;

    public void Reset(VbdRing device)
    {
        Device = device;
        Id = 0;
        WireOperation = 0;
        Kind = 0;
        Sector = 0;
        Sectors = 0;
        SegmentCount = 0;
        IndirectPages = 0;
        Status = BlkifResponse.StatusOkay;
        Failure = null;
        InBatch = false;
    }

    public void Fail(short status, string reason)
    {
        if (Status == BlkifResponse.StatusOkay)
        {
            Status = status;
            Failure = reason;
        }
    }

    /// <summary>A worker thread: flush, barrier or discard, which wait for the disk; then back to the loop.</summary>
    public void Execute()
    {
        Device.RunSlowOperation(this);
        Loop.Complete(this);
    }
}
