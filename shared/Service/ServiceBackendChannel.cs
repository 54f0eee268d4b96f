using Disagg.Abi.Grants;
using Disagg.Abi.Service;
using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// A backend's data path over its real kernel channel: copies on the shared copy ring, events from the shared
/// bitmap, sends through the shared send ring. One policy for a full send ring, for every backend: the send goes
/// as a request instead (slower, off the loop's thread, never lost), and the loop carries on.
/// </summary>
public sealed class ServiceBackendChannel(ServiceChannel channel) : IBackendChannel
{
    public int BufferPages => channel.BufferPages;

    public int CopyRingEntries => ServiceCopyRing.Entries;

    public Doorbell Doorbell => channel.Doorbell;

    public Span<byte> Buffer(int firstPage, int pages) => channel.BufferSpan(firstPage, pages);

    public bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end) => channel.TrySubmitCopies(ops, out end);

    public bool CopiesDone(uint end) => channel.CopiesDone(end);

    public bool WaitForCopies(uint end, TimeSpan timeout) => channel.WaitForCopies(end, timeout);

    public short CopyStatus(uint index) => channel.CopyStatus(index);

    public int TakePendingEvents(Span<int> ports) => channel.TakePendingEvents(ports);

    public bool PrepareToSleep() => channel.PrepareToSleep();

    public void Notify(int port)
    {
        if (!channel.Notify(port))
        {
            channel.NotifyAsync(port).ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }
}
