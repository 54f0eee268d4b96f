using System.Threading.Channels;

namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>
/// One attached `disagg console` client: a bounded queue of output chunks. A client that reads
/// too slowly loses the oldest chunks (counted in <see cref="TakeDropped"/>) instead of making
/// the daemon buffer without limit or stall the other consoles.
/// </summary>
internal sealed class ConsoleSubscriber
{
    /// <summary>At most this many chunks (each at most one log read, 64 KiB) wait for a slow client.</summary>
    private const int Capacity = 64;

    private readonly Channel<byte[]> _queue;
    private long _dropped;

    public ConsoleSubscriber()
    {
        _queue = Channel.CreateBounded<byte[]>(
            new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            chunk => Interlocked.Add(ref _dropped, chunk.Length));
    }

    public ChannelReader<byte[]> Output => _queue.Reader;

    /// <summary>Why the console ended (set before the queue completes).</summary>
    public string? ClosedReason { get; private set; }

    public void Post(ReadOnlySpan<byte> text) => _queue.Writer.TryWrite(text.ToArray());

    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    public void Close(string reason)
    {
        ClosedReason ??= reason;
        _queue.Writer.TryComplete();
    }
}
