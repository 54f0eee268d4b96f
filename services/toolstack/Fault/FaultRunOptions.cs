using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// A fault run as asked: the plan (targets, faults, interval, length, seed), where the report goes, whether it
/// starts its own workload guests, and the bounds the invariants are judged by.
/// </summary>
internal sealed record FaultRunOptions(FaultPlan Plan, string ReportDir, bool UseExisting, string? GuestKernel, TimeSpan MaxNetOutage, TimeSpan Heartbeat)
{
    /// <summary>How long a faulted service may take to serve again before the run calls it a violation.</summary>
    public static TimeSpan RecoveryBound { get; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the workload guests may take to show their first reply and first blk-verify line.</summary>
    public static TimeSpan StartBound { get; } = TimeSpan.FromSeconds(180);
}
