namespace Disagg.Control.Messages;

/// <summary>
/// The dirty log's read-and-clear (Xen's XEN_DOMCTL_SHADOW_OP_CLEAN) for a domain whose log was started with
/// DomainCommand EnableDirtyLog. Replies <see cref="DirtyBitmap"/>.
/// </summary>
public sealed record CleanDirtyLog(int DomainId) : ControlMessage;

/// <summary>Bit i: RAM frame i was written since the last clean; bits past the RAM are the special pages.</summary>
public sealed record DirtyBitmap(byte[] Bitmap, long DirtyPages) : ControlMessage;

/// <summary>
/// One live-migration round of a domain, written by the kernel into the connected stream socket sent with the
/// request (one descriptor): Start (the dirty log begins; header, domain, all memory), Round (pages dirtied
/// since), Finish (the domain paused: last pages, state, end; then the hand-off with the target's kernel on the
/// same socket, MigrationHandOff: its Built, our Commit — after comparing memory digests when
/// <paramref name="Verify"/> — its Resumed). <paramref name="FirstRecord"/> numbers the round's records on from
/// the previous ones. <paramref name="DeviceModelState"/> (Finish, HVM): the device model's state, written after
/// the platform record. Replies <see cref="MigrationRoundSent"/>; a Finish that failed before the Commit replies an
/// error (the domain may run on here), one that failed after it MigrationRoundSent with Unconfirmed saying why.
/// <paramref name="Sent"/> (CatchUp): the pages sent so far. <paramref name="Pause"/> (Finish): the kernel pauses the running domain itself first — no pause request and
/// reply inside the downtime — and unpauses it again if the hand-off fails before the Commit.
/// </summary>
public sealed record MigrationSend(int DomainId, MigrationStage Stage, int FirstRecord, byte[] Config, bool Verify = false, long Sent = 0, byte[]? DeviceModelState = null, bool Pause = false) : ControlMessage;

/// <summary>
/// A Finish adds the hand-off: the target's new domain id, the wait from the stop round's end to the target's
/// Built (BuiltNs) and from the Commit to its Resumed (ResumedNs); Unconfirmed: committed, but no Resumed came.
/// Timeline: the stop-and-copy's steps on both hosts, an i64 LE Stopwatch stamp each in MigrationStep order (0: not
/// reached; the target's come from its clock, comparable with ours on one machine only).
/// </summary>
public sealed record MigrationRoundSent(int Records, long Pages, long Bytes, long DirtyPages, long ElapsedNs, int TargetDomainId = 0, long BuiltNs = 0, long ResumedNs = 0, string Unconfirmed = "", byte[]? Timeline = null) : ControlMessage;

/// <summary>
/// Reads a whole migration stream from the stream socket sent with the request (one descriptor) into a new
/// paused domain, then does the target's side of the hand-off on it (MigrationHandOff: Built with the memory
/// digest when <paramref name="Verify"/>, the source's Commit, the domain unpaused unless <paramref name="Paused"/>,
/// Resumed). Replies DomainCreated once the guest is this host's; a refused stream, or no Commit, creates nothing.
/// </summary>
public sealed record MigrationReceive(string Name, int ConsoleBackendDomain, int XenstoreDomain, bool Verify = false, bool Paused = false) : ControlMessage;

/// <summary>
/// A digest of a paused domain's populated RAM (frame numbers and contents): a migration's source and target
/// compare theirs before the target may run the guest (`disagg migrate --verify`). Replies <see cref="MemoryHash"/>.
/// </summary>
public sealed record HashMemory(int DomainId) : ControlMessage;

public sealed record MemoryHash(ulong Hash, long Pages) : ControlMessage;

/// <summary>What <see cref="MigrationSend"/> asks. Wire values: append-only.</summary>
public enum MigrationStage
{
    Start = 0,
    Round = 1,
    Finish = 2,

    /// <summary>
    /// No records: waits until the target's kernel has applied all but a few of the <c>Sent</c> pages (memory and
    /// zero pages, every round's, as MigrationRoundSent.Pages counts them; its CaughtUp frames), so the stop round is not queued behind pre-copy rounds the target has not applied yet.
    /// </summary>
    CatchUp = 3,
}
