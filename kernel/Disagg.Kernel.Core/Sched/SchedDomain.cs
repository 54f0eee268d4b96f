namespace Disagg.Kernel.Core.Sched;

/// <summary>A domain as the credit scheduler sees it: its weight, its cap, its vCPUs and what it used this period.</summary>
public sealed class SchedDomain
{
    internal SchedDomain(int domainId, int weight, int cap)
    {
        DomainId = domainId;
        Weight = weight;
        Cap = cap;
    }

    public int DomainId { get; }

    /// <summary>Relative share of contended CPU (Xen default 256).</summary>
    public int Weight { get; internal set; }

    /// <summary>Percent of one pCPU this domain may use at most; 0 means no cap.</summary>
    public int Cap { get; internal set; }

    public IReadOnlyList<SchedVcpu> Vcpus => VcpuList;

    internal List<SchedVcpu> VcpuList { get; } = [];

    /// <summary>CPU time used in the current accounting period, for the cap.</summary>
    internal long UsedThisPeriodNs { get; set; }

    /// <summary>Slices granted to its running vCPUs and not yet charged: the cap budget they may still use.</summary>
    internal long ReservedNs { get; set; }

    /// <summary>On the scheduler's list of domains that get credit this period.</summary>
    internal bool Active { get; set; }

    internal bool Removed { get; set; }

    internal long CapBudgetNs(long periodNs) => Cap == 0 ? long.MaxValue : periodNs * Cap / 100;

    /// <summary>What the cap still allows this period, after what ran and what running vCPUs were granted.</summary>
    internal long CapLeftNs(long periodNs) => Cap == 0 ? long.MaxValue : CapBudgetNs(periodNs) - UsedThisPeriodNs - ReservedNs;
}
