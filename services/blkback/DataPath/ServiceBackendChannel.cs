using Disagg.Abi.Grants;
using Disagg.Service;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// The data path over the real kernel channel: copies queued on the shared copy ring (the loop waits only for
/// the ones it needs), sends through the shared send ring (a request only when that ring is full).
/// </summary>
internal sealed class ServiceBackendChannel(ServiceChannel channel) : IBackendChannel
{
    /// <summary>
    /// A kernel that has not performed a batch of copies in this long is stuck; the loop gives up (the process
    /// exits and the supervisor restarts it; frontends reconnect and re-issue what was not answered).
    /// </summary>
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromSeconds(30);

    public int BufferPages => channel.BufferPages;

    public int CopyRingEntries => Abi.Service.ServiceCopyRing.Entries;

    public Span<byte> Buffer(int firstPage, int pages) => channel.BufferSpan(firstPage, pages);

    public bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end) => channel.TrySubmitCopies(ops, out end);

    public bool CopiesDone(uint end) => channel.CopiesDone(end);

    public void WaitForCopies(uint end)
    {
        if (!channel.WaitForCopies(end, CopyTimeout))
        {
            throw new TimeoutException($"the kernel performed no grant copy up to ring index {end} in {CopyTimeout.TotalSeconds} s");
        }
    }

    public short CopyStatus(uint index) => channel.CopyStatus(index);

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
