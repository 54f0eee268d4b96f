using Disagg.Service;

namespace Disagg.Netback.DataPath;

/// <summary>
/// The copy-buffer pages after the batch's that hold frames for vifs without a posted rx buffer (every vif's
/// <see cref="RxBacklog"/> draws from this one pool), and the list of vifs that have frames waiting.
/// Switching thread only; fixed arrays, nothing allocates after construction.
/// </summary>
internal sealed class RxBacklogPool
{
    private readonly IBackendChannel _channel;
    private readonly int[] _free;
    private int _freeCount;

    /// <param name="channel">Whose copy buffer holds the pages.</param>
    /// <param name="firstPage">The first page of the pool (after the batch's).</param>
    /// <param name="pages">How many (none: a frame without an rx buffer is dropped at once).</param>
    public RxBacklogPool(IBackendChannel channel, int firstPage, int pages)
    {
        _channel = channel;
        _free = new int[pages];
        for (var i = 0; i < pages; i++)
        {
            _free[_freeCount++] = firstPage + pages - 1 - i;
        }
    }

    /// <summary>Vifs with frames waiting, each listed once (<see cref="RxBacklog.Listed"/>).</summary>
    public List<Vif> Backlogged { get; } = new(256);

    /// <summary>Copies <paramref name="frame"/> into a pool page at the end of <paramref name="vif"/>'s backlog; false if that is full or the pool is empty.</summary>
    public bool TryHold(Vif vif, ReadOnlySpan<byte> frame, ushort flags)
    {
        if (vif.Backlog.IsFull || _freeCount == 0)
        {
            return false;
        }

        var page = _free[--_freeCount];
        frame.CopyTo(_channel.Buffer(page, 1));
        vif.Backlog.Enqueue(page, frame.Length, flags);
        if (!vif.Backlog.Listed)
        {
            vif.Backlog.Listed = true;
            Backlogged.Add(vif);
        }

        return true;
    }

    /// <summary>A held frame was copied to its frontend: its page is free again.</summary>
    public void Return(int page) => _free[_freeCount++] = page;

    /// <summary>The vif left the switch: its waiting frames are dropped and their pages freed.</summary>
    public void Release(Vif vif)
    {
        while (vif.Backlog.Count > 0)
        {
            vif.Backlog.Dequeue(out var page, out _, out _);
            Return(page);
        }

        if (vif.Backlog.Listed)
        {
            vif.Backlog.Listed = false;
            Backlogged.Remove(vif);
        }
    }
}
