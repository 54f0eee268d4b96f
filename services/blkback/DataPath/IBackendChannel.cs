using Disagg.Abi.Grants;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// What the data path needs from the kernel: its copy buffer, grant copies, the event bitmap and doorbell,
/// and sends. The process uses <see cref="ServiceBackendChannel"/>; tests give it an in-process one, so
/// request handling is tested without a kernel. Every member but <see cref="Wake"/> is called from the
/// I/O loop thread only.
/// </summary>
internal interface IBackendChannel
{
    /// <summary>Pages in the copy buffer; page i is frame i in a <see cref="GrantCopy"/> with DOMID_SELF.</summary>
    int BufferPages { get; }

    /// <summary><paramref name="pages"/> consecutive copy buffer pages as one span.</summary>
    Span<byte> Buffer(int firstPage, int pages);

    /// <summary>Slots in the copy ring: copies submitted and not yet completed never exceed this.</summary>
    int CopyRingEntries { get; }

    /// <summary>
    /// Queues <paramref name="ops"/> for the kernel without waiting; <paramref name="end"/> is the ring index after
    /// the last one. False (nothing queued) if the ring lacks room for all of them.
    /// </summary>
    bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end);

    /// <summary>Whether every copy queued before ring index <paramref name="end"/> is done. No system call.</summary>
    bool CopiesDone(uint end);

    /// <summary>Waits until every copy queued before <paramref name="end"/> is done; throws if the kernel stopped copying.</summary>
    void WaitForCopies(uint end);

    /// <summary>The GNTST status of the copy queued as ring index <paramref name="index"/> (valid until its slot is reused).</summary>
    short CopyStatus(uint index);

    /// <summary>Takes (and clears) the pending ports, up to the span's length.</summary>
    int TakePendingEvents(Span<int> ports);

    /// <summary>Announces that the loop is about to sleep; true if events are pending already (do not sleep).</summary>
    bool PrepareToSleep();

    /// <summary>Waits for the doorbell (an event, or <see cref="Wake"/>), at most <paramref name="timeout"/>.</summary>
    void Sleep(TimeSpan timeout);

    /// <summary>Rings the loop's doorbell from another thread (a finished flush, a new device).</summary>
    void Wake();

    /// <summary>Sends an event on our port <paramref name="port"/>.</summary>
    void Notify(int port);
}
