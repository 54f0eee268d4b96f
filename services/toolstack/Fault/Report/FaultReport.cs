using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>
/// Everything a fault run found, as written to DIR/report.json; the terminal table and the HTML page are both
/// rendered from it alone, so `disagg fault report DIR` re-renders a run without the host. Times are ms since
/// the run's start (the first fault is due at one interval).
/// </summary>
public sealed record FaultReport(
    int Version,
    DateTimeOffset StartedAt,
    long ElapsedMs,
    RunPlan Plan,
    IReadOnlyList<ScheduledFault> Schedule,
    IReadOnlyList<FaultOutcome> Faults,
    IReadOnlyList<ServiceRecovery> Services,
    IReadOnlyList<PingSummary> Network,
    IReadOnlyList<StorageSummary> Storage,
    XenstoreSummary Xenstore,
    IReadOnlyList<GuestSummary> Guests,
    CountersCheck? Counters,
    IReadOnlyList<InvariantResult> Invariants,
    Violation? Violation)
{
    public const int CurrentVersion = 1;

    public bool Passed => Violation is null && Invariants.All(i => i.Holds);
}

/// <summary>The plan as asked, and the bounds the invariants were judged by.</summary>
public sealed record RunPlan(IReadOnlyList<string> Targets, IReadOnlyList<FaultKind> Kinds, long EveryMs, long DurationMs, int Seed, bool UseExisting, long MaxNetOutageMs, long HeartbeatMs)
{
    public FaultPlan ToPlan() => new(Targets, Kinds, TimeSpan.FromMilliseconds(EveryMs), TimeSpan.FromMilliseconds(DurationMs), Seed);
}

/// <summary>What happened to one scheduled fault: when it was injected, the pids, how long until its target served again.</summary>
public sealed record FaultOutcome(int Index, long AtMs, string Target, FaultKind Kind, long HoldMs, string Outcome, int? OldPid, int? NewPid, long? RecoveryMs, long FramesLost, long Reissued);

/// <summary>Per service: faults it took, restarts seen, recovery time (injection to serving again) median/p99/max, and total downtime.</summary>
public sealed record ServiceRecovery(string Name, int Faults, int Recovered, long MedianRecoveryMs, long P99RecoveryMs, long MaxRecoveryMs, long DowntimeMs);

/// <summary>Seqs that went unanswered between two replies.</summary>
public sealed record LossWindow(string Guest, long StartMs, long EndMs, long Lost);

/// <summary>
/// One guest's pings: replies, losses and their windows, the median round trip, the longest, and every reply slower
/// than <see cref="Workload.PingWatch.SlowMs"/> (a frame held while a backend restarted comes back late, not lost:
/// its round trip is the outage that guest saw, to the millisecond).
/// </summary>
public sealed record PingSummary(string Guest, long Received, long Lost, long MaxWindowMs, long SilentMs, IReadOnlyList<LossWindow> Windows,
    long MedianRttMs = 0, long MaxRttMs = 0, IReadOnlyList<SlowReply>? Slow = null);

/// <summary>A reply whose round trip was at least <see cref="Workload.PingWatch.SlowMs"/>, seen at <paramref name="SeenMs"/>.</summary>
public sealed record SlowReply(long SeenMs, long Seq, long RttMs);

public sealed record StorageSummary(string Guest, long Passes, long Mismatches, long Errors, long Reconnects, long Reissued, IReadOnlyList<string> Evidence);

public sealed record XenstoreSummary(string Root, int Acknowledged, int Unacknowledged, long Checks, string? Evidence);

public sealed record GuestSummary(string Name, string Role, string? State, long LastHeartbeatMs, string? Evidence);

/// <summary>The kernel's counters before the workload started and after it was gone, and any that did not come back.</summary>
public sealed record CountersCheck(HostCountersSnapshot Before, HostCountersSnapshot After, IReadOnlyList<string> Leaks);

public sealed record HostCountersSnapshot(int Domains, int Services, int EventPorts, int GrantMaps, int SharedPages, long FreeMemoryKiB);

/// <summary>One invariant's verdict; Evidence says what broke it, AtMs when.</summary>
public sealed record InvariantResult(string Name, bool Holds, string? Evidence, long? AtMs);

/// <summary>The violation that stopped the run.</summary>
public sealed record Violation(string Invariant, long AtMs, string Evidence);
