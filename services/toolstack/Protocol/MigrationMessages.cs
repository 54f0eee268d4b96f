namespace Disagg.Toolstack.Protocol;

/// <summary>
/// `disagg migrate DOMAIN TARGET`: the daemon pushes <see cref="MigrateProgress"/> per round on this connection,
/// then <see cref="MigrateReply"/> (or ErrorReply: the guest runs on here as before). Key is the shared secret of
/// the target's `host up --listen` (its token, or its key file's contents).
/// </summary>
internal sealed record MigrateRequest(string Domain, string Target, bool Live, string Key, int MaxRounds = 30, bool Verify = false) : DaemonMessage;

/// <summary>Stage: "round" (pre-copy), "stop" (the stop-and-copy round), "resumed".</summary>
internal sealed record MigrateProgress(string Stage, int Round, long Pages, long Bytes, long DirtyPages, long DirtyPagesPerSecond, long ElapsedMs) : DaemonMessage;

/// <summary>
/// The result, with where the time went (microseconds, measured at the source): SuspendUs from the stop request
/// to the guest stopped (its cooperative suspend, or the pause); StopRoundUs the stop-and-copy round; ReceivedUs
/// from its end to the target's word that it holds the whole guest; ResumedUs from there to the target's word
/// that the guest runs (commit, unpause); DowntimeUs from the guest stopped to that word; ReleaseUs after it:
/// our copy destroyed and its disks closed (flushed) for the target's backends.
/// </summary>
internal sealed record MigrateReply(string Domain, string Target, int TargetDomainId, int Rounds, long Pages, long Bytes, long TotalUs, long DowntimeUs, long SuspendUs = 0, long StopRoundUs = 0, long ReceivedUs = 0, long ResumedUs = 0, long ReleaseUs = 0) : DaemonMessage;

// Host to host, over the target's --listen TCP socket (docs/SAVE-RESTORE.md, "Live migration"):
// challenge -> offer -> answer, the image stream (kernel to kernel), received -> commit -> resumed.

/// <summary>The target speaks first: a fresh nonce the source must prove it knows the key with, and its arch.</summary>
internal sealed record MigrateChallenge(byte[] Nonce, string Arch) : DaemonMessage;

/// <summary>
/// Proof = HMAC-SHA256(key, nonce); the rest is what the target checks before any memory moves. Verify: the
/// target hashes the guest's memory (MemoryHash in <see cref="MigrateReceived"/>) for the source to compare.
/// </summary>
internal sealed record MigrateOffer(byte[] Proof, string Name, string Isa, long MaxMemoryKiB, string ConfigPath, string Uuid, bool Paused, bool Verify = false) : DaemonMessage;

internal sealed record MigrateAnswer(bool Accepted, string Reason) : DaemonMessage;

/// <summary>The target's kernel built the domain (paused) from the whole stream, or refused it (Reason).</summary>
internal sealed record MigrateReceived(bool Ok, string Reason, ulong MemoryHash = 0) : DaemonMessage;

/// <summary>The source gives the guest up: the target may run it.</summary>
internal sealed record MigrateCommit : DaemonMessage;

internal sealed record MigrateResumed(int DomainId) : DaemonMessage;

/// <summary>
/// After <see cref="MigrateResumed"/>: the source's copy is gone and its backends closed the guest's writable
/// disks after flushing them (Held names any still open at the time limit); the target attaches its devices now.
/// </summary>
internal sealed record MigrateReleased(string Held) : DaemonMessage;
