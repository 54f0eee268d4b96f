using Disagg.Abi.Grants;
using Disagg.Service;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// The data path over the real kernel channel: copies through the shared copy ring in chunks of its size,
/// sends through the shared send ring (a request only when that ring is full).
/// </summary>
internal sealed class ServiceBackendChannel(ServiceChannel channel) : IBackendChannel
{
    /// <summary>
    /// A kernel that has not performed a batch of copies in this long is stuck; the loop gives up (the process
    /// exits and the supervisor restarts it, which costs frontends nothing: rings resume from their indices).
    /// </summary>
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(30);

    private static readonly int ChunkSize = Abi.Service.ServiceCopyRing.Entries;

    public int BufferPages => channel.BufferPages;

    public Span<byte> Buffer(int firstPage, int pages) => channel.BufferSpan(firstPage, pages);

    public void Copy(ReadOnlySpan<GrantCopy> ops, Span<short> status)
    {
        for (var at = 0; at < ops.Length; at += ChunkSize)
        {
            var chunk = ops.Slice(at, Math.Min(ChunkSize, ops.Length - at));
            if (!channel.TrySubmitCopies(chunk, out var end))
            {
                // Only this thread submits and every chunk is waited for, so the ring is empty here.
                throw new InvalidOperationException($"copy ring refused {chunk.Length} copies while empty");
            }

            if (!channel.WaitForCopies(end, CopyTimeout))
            {
                throw new TimeoutException($"the kernel performed no grant copy of a batch of {chunk.Length} in {CopyTimeout.TotalSeconds} s");
            }

            var first = end - (uint)chunk.Length;
            for (var i = 0; i < chunk.Length; i++)
            {
                status[at + i] = channel.CopyStatus(first + (uint)i);
            }
        }
    }

    public int TakePendingEvents(Span<int> ports) => channel.TakePendingEvents(ports);

    public bool PrepareToSleep() => channel.PrepareToSleep();

    public void Sleep(TimeSpan timeout) => channel.Doorbell.Wait(timeout);

    public void Wake() => channel.Doorbell.Ring();

    public void Notify(int port)
    {
        if (!channel.Notify(port))
        {
            // The send ring is full (the kernel's pump is behind): the answered request path is slower but never lost.
            channel.NotifyAsync(port).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }
}
