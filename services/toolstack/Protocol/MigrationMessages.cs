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
/// to the guest stopped (its cooperative suspend, or the pause); StopRoundUs the stop-and-copy round as our kernel
/// wrote it; ReceivedUs from its end to the target kernel's word that it built the domain (Built); ResumedUs from
/// our kernel's Commit to the target's word that the guest runs (Resumed); RequestUs the rest of that one request
/// (its trip from this daemon to our kernel and back); DowntimeUs from the guest stopped to the request's reply;
/// ReleaseUs after it: our copy destroyed and its disks closed (flushed) for the target's backends.
/// Hops: messages that crossed from one process to another, each a wake-up: StopHops while the guest was stopped
/// (the pause, or the suspend's xenstore write and domain-state polls), HandOffHops from then to the reply.
/// CatchUpUs, before the stop: the wait until the target's kernel had applied every pre-copy round.
/// Steps: the stop-and-copy step by step on both hosts, from the kernels' stamps (StopTimeline); DowntimeUs ends at
/// the target's unpause when its stamps share our clock (TargetClock: one machine), else at our read of its Resumed.
/// </summary>
internal sealed record MigrateReply(string Domain, string Target, int TargetDomainId, int Rounds, long Pages, long Bytes, long TotalUs, long DowntimeUs, IReadOnlyList<MigrationStepRow> Steps, bool TargetClock, long SuspendUs = 0, long StopRoundUs = 0, long ReceivedUs = 0, long ResumedUs = 0, long ReleaseUs = 0, long RequestUs = 0, int StopHops = 0, int HandOffHops = 0, long CatchUpUs = 0) : DaemonMessage;

/// <summary>One step of the stop-and-copy: on which host, which (the kernel's MigrationStep, snake case), microseconds after the guest stopped.</summary>
internal sealed record MigrationStepRow(string Host, string Step, long AtUs);

// Host to host, over the target's --listen TCP socket (docs/SAVE-RESTORE.md, "Live migration"):
// challenge -> offer -> answer, the image stream and its hand-off (kernel to kernel: built -> commit -> resumed),
// released.

/// <summary>The target speaks first: a fresh nonce the source must prove it knows the key with, and its arch.</summary>
internal sealed record MigrateChallenge(byte[] Nonce, string Arch) : DaemonMessage;

/// <summary>
/// Proof = HMAC-SHA256(key, nonce); the rest is what the target checks before any memory moves. Verify: the
/// target's kernel sends its memory digest with Built (MigrationHandOff) for the source's kernel to compare.
/// State: the guest's config as the source has it (a ToolstackState without the xenstore subtree, which comes with
/// MigrateReleased): the target takes the guest's config from here, never from ConfigPath, which names a file on the
/// source's host (kept as the guest's config path, as a restore keeps the saved one).
/// </summary>
internal sealed record MigrateOffer(byte[] Proof, string Name, string Isa, long MaxMemoryKiB, string ConfigPath, string Uuid, bool Paused, bool Verify = false, byte[]? State = null) : DaemonMessage;

internal sealed record MigrateAnswer(bool Accepted, string Reason) : DaemonMessage;

/// <summary>
/// After the hand-off (the guest runs on the target): the source's copy is gone and its backends closed the guest's writable
/// disks after flushing them (Held names any still open at the time limit); the target attaches its devices now.
/// State: the guest's ToolstackState as a save file's header carries it (its config with hot-plugged devices, its
/// xenstore subtree), taken after the target resumed it, for the target to recreate what a restore would.
/// </summary>
internal sealed record MigrateReleased(string Held, byte[]? State = null) : DaemonMessage;
