using Disagg.Abi.Grants;
using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// What a backend's data-path thread (netback's switch, blkback's I/O loop) needs from the kernel, and nothing
/// more: its copy buffer, the shared grant-copy ring, its event ports and doorbell, and sends.
/// <see cref="ServiceBackendChannel"/> is the real one over a <see cref="ServiceChannel"/>; tests give the data
/// path an in-process one, so request handling is tested without a kernel. Every member is called from the
/// data-path thread only, except <see cref="Doorbell"/>'s Ring (another thread wakes the loop).
/// </summary>
public interface IBackendChannel
{
    /// <summary>Pages in the copy buffer: page i is frame i on the DOMID_SELF side of a <see cref="GrantCopy"/>.</summary>
    int BufferPages { get; }

    /// <summary><paramref name="pages"/> consecutive copy-buffer pages from <paramref name="firstPage"/>, as one span.</summary>
    Span<byte> Buffer(int firstPage, int pages);

    /// <summary>Slots in the copy ring: copies submitted and not yet completed never exceed this.</summary>
    int CopyRingEntries { get; }

    /// <summary>
    /// Queues <paramref name="ops"/> for the kernel without waiting (no allocation); <paramref name="end"/> is the
    /// ring index after the last one. False (nothing queued) if the ring lacks room for all of them.
    /// </summary>
    bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end);

    /// <summary>Whether every copy queued before ring index <paramref name="end"/> is done. No system call.</summary>
    bool CopiesDone(uint end);

    /// <summary>Sleeps until every copy queued before <paramref name="end"/> is done; false on timeout (the kernel is gone or stuck).</summary>
    bool WaitForCopies(uint end, TimeSpan timeout);

    /// <summary>The GNTST status of the copy queued as ring index <paramref name="index"/> (valid until its slot is reused).</summary>
    short CopyStatus(uint index);

    /// <summary>Takes (and clears) the pending ports, up to the span's length.</summary>
    int TakePendingEvents(Span<int> ports);

    /// <summary>Announces that the loop is about to sleep; true if events are pending already (do not sleep then).</summary>
    bool PrepareToSleep();

    /// <summary>Readable when events may be pending (after <see cref="PrepareToSleep"/> said none were); Ring wakes the loop.</summary>
    Doorbell Doorbell { get; }

    /// <summary>
    /// Sends an event on our port <paramref name="port"/>. Never lost: the shared send ring without a system call,
    /// or, when that ring is full (the kernel's pump is behind), a request on the control connection.
    /// </summary>
    void Notify(int port);
}
