namespace Disagg.Kernel.Core.Sched;

/// <summary>Credit scheduler tunables; defaults follow Xen's credit1 (30 ms accounting, 1 ms rate limit).</summary>
public sealed record CreditSchedulerOptions
{
    /// <summary>How often credit is handed out.</summary>
    public long AccountingPeriodNs { get; init; } = 30_000_000;

    /// <summary>The longest a vCPU runs before the scheduler looks again.</summary>
    public long TimesliceNs { get; init; } = 10_000_000;

    /// <summary>The shortest slice, so preemption by a boosted vCPU cannot thrash.</summary>
    public long MinSliceNs { get; init; } = 1_000_000;
}
