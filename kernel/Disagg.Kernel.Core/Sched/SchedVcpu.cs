namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// A vCPU as the credit scheduler sees it. Its run state is derived from two inputs the rest of
/// the kernel sets — a pause count (control domain pause, HSM stopped) and a blocked flag
/// (WFI, sched_op block) — plus the domain's cap, so pause/unpause and block/wake compose.
/// </summary>
public sealed class SchedVcpu
{
    internal SchedVcpu(SchedDomain domain, int vcpuId, ulong affinity, object? owner)
    {
        Domain = domain;
        VcpuId = vcpuId;
        Affinity = affinity;
        Owner = owner;
    }

    public SchedDomain Domain { get; }

    public int VcpuId { get; }

    /// <summary>The execution-side object (the kernel's Vcpu) this entry schedules.</summary>
    public object? Owner { get; internal set; }

    /// <summary>Hard affinity: bit n set means pCPU n may run this vCPU.</summary>
    public ulong Affinity { get; internal set; }

    public VcpuRunState State { get; internal set; } = VcpuRunState.Paused;

    public CreditPriority Priority { get; internal set; } = CreditPriority.Under;

    /// <summary>Remaining credit in ns of CPU time; negative when overspent.</summary>
    public long CreditNs { get; internal set; }

    /// <summary>The pCPU it runs on, or whose runqueue it is on, or last ran on.</summary>
    public int Pcpu { get; internal set; }

    internal int PauseCount { get; set; } = 1; // created paused, as Xen domains are

    internal bool Blocked { get; set; }

    internal bool Removed { get; set; }

    internal long RunStartNs { get; set; }

    internal long TotalRunNs { get; set; }

    /// <summary>The slice granted when it last started running (reserved against its domain's cap).</summary>
    internal long SliceNs { get; set; }

    // Intrusive runqueue links: enqueue and dequeue allocate nothing.
    internal SchedVcpu? Prev { get; set; }

    internal SchedVcpu? Next { get; set; }

    internal RunQueue? Queue { get; set; }

    internal bool MayRunOn(int pcpu) => (Affinity & (1UL << pcpu)) != 0;
}
