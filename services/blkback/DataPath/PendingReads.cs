namespace Disagg.Blkback.DataPath;

/// <summary>
/// Reads whose data is on its way back to the frontend, a group per copy-ring ticket, oldest first: the loop
/// answers a group once the kernel has performed its copies, and meanwhile serves other requests. Arrays are
/// sized once (a group holds at least one request, and each request its own slot, so a group per slot at most).
/// </summary>
internal sealed class PendingReads
{
    private readonly uint[] _tickets;
    private readonly IoRequest[][] _groups;
    private readonly int[] _counts;
    private int _head;

    public PendingReads(int capacity, int groupSize)
    {
        _tickets = new uint[capacity];
        _counts = new int[capacity];
        _groups = new IoRequest[capacity][];
        for (var i = 0; i < capacity; i++)
        {
            _groups[i] = new IoRequest[groupSize];
        }
    }

    public int Count { get; private set; }

    /// <summary>The ticket of the oldest group; valid when <see cref="Count"/> is not 0.</summary>
    public uint OldestTicket => _tickets[_head];

    /// <summary>The oldest group's reads; valid when <see cref="Count"/> is not 0.</summary>
    public ReadOnlySpan<IoRequest> Oldest => _groups[_head].AsSpan(0, _counts[_head]);

    /// <summary>Queues the reads of <paramref name="group"/> that still wait for their data (a group without any adds nothing).</summary>
    public void Add(uint ticket, ReadOnlySpan<IoRequest> group)
    {
        var at = (_head + Count) % _tickets.Length;
        var reads = _groups[at];
        var n = 0;
        foreach (var r in group)
        {
            if (r.Kind == Abi.Io.BlkifOperation.Read && r.InBatch)
            {
                reads[n++] = r;
            }
        }

        if (n == 0)
        {
            return;
        }

        if (Count == _tickets.Length)
        {
            throw new InvalidOperationException($"{Count} read groups pending: more than one per request slot");
        }

        _tickets[at] = ticket;
        _counts[at] = n;
        Count++;
    }

    public void RemoveOldest()
    {
        _groups[_head].AsSpan(0, _counts[_head]).Clear();
        _head = (_head + 1) % _tickets.Length;
        Count--;
    }
}
