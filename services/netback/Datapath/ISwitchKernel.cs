using Disagg.Abi.Grants;
using Disagg.Interop;

namespace Disagg.Netback.Datapath;

/// <summary>
/// What the switching thread needs from the kernel, and nothing more: its copy buffer (its own frames for
/// grant copy), the shared grant-copy ring, and its event ports. <see cref="ChannelSwitchKernel"/> is the
/// real one over a <see cref="Disagg.Service.ServiceChannel"/>; tests drive the switch through in-process rings
/// with their own. Every member is called from the switching thread only.
/// </summary>
public interface ISwitchKernel
{
    /// <summary>Pages in the copy buffer: frame numbers 0..BufferPages-1 in a copy's non-grant side.</summary>
    int BufferPages { get; }

    /// <summary>Readable when events may be pending (after <see cref="PrepareToSleep"/> said none were).</summary>
    Doorbell Doorbell { get; }

    Span<byte> BufferPage(int page);

    /// <summary>Queues copies (no allocation); <paramref name="end"/> is the ticket for <see cref="CopiesDone"/>. False if the ring lacks room.</summary>
    bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end);

    bool CopiesDone(uint end);

    /// <summary>Sleeps until the copies before <paramref name="end"/> are done; false on timeout (the kernel is gone or stuck).</summary>
    bool WaitForCopies(uint end, TimeSpan timeout);

    /// <summary>The GNTST status of copy number <paramref name="index"/> (valid until the slot is reused).</summary>
    short CopyStatus(uint index);

    /// <summary>Most copies the ring takes at once.</summary>
    int CopyRingEntries { get; }

    int TakePendingEvents(Span<int> ports);

    /// <summary>Announces a sleep; true if events are already pending (do not sleep then).</summary>
    bool PrepareToSleep();

    /// <summary>EVTCHNOP_send without a system call; false if it could not be queued.</summary>
    bool Notify(int port);
}
