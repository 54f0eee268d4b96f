namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// The steps of a migration's stop-and-copy on both hosts, in the order they happen (docs/SAVE-RESTORE.md,
/// "Phases"). Each is stamped with Stopwatch.GetTimestamp — CLOCK_MONOTONIC in nanoseconds on Linux, one clock for
/// every process of a machine — so on one machine the target's stamps fall between the source's, and the gaps between
/// them name where the downtime went. Wire values (<see cref="MigrationTimeline"/>): append only.
/// </summary>
public enum MigrationStep
{
    /// <summary>Source: the guest stopped — the kernel's own pause at the Finish, a PV guest's SHUTDOWN_suspend, else the Finish request's arrival (a guest the toolstack paused).</summary>
    Paused = 0,

    /// <summary>Source: every vCPU off its pCPU.</summary>
    OffCpu = 1,

    /// <summary>Source: the last dirty bitmap read (its clean waited for every running vCPU).</summary>
    LastDirtyRead = 2,

    /// <summary>Source: the stop round written to the socket (its last bytes flushed).</summary>
    StopRoundSent = 3,

    /// <summary>Source: the target's Built read.</summary>
    BuiltRead = 4,

    /// <summary>Source: the Commit written.</summary>
    CommitSent = 5,

    /// <summary>Source: the target's Resumed read.</summary>
    ResumedRead = 6,

    /// <summary>Target: its read of the stream last woke from waiting before the stop round's state (the stop round's arrival when it had caught up).</summary>
    StopRoundArrived = 7,

    /// <summary>Target: the stop round's pages applied (its domain record read).</summary>
    PagesApplied = 8,

    /// <summary>Target: the state records read, up to the end record.</summary>
    StateRead = 9,

    /// <summary>Target: the domain checked and trimmed (frames never sent given back).</summary>
    DomainBuilt = 10,

    /// <summary>Target: vCPUs, event channels and grants restored.</summary>
    VcpusLoaded = 11,

    /// <summary>Target: Built written.</summary>
    BuiltSent = 12,

    /// <summary>Target: the Commit read.</summary>
    CommitRead = 13,

    /// <summary>Target: the guest unpaused (it runs here from this instant).</summary>
    Resumed = 14,
}
