namespace Disagg.Kernel.Core.Sched;

/// <summary>Credit1's priorities: a vCPU with credit left runs before one that has overspent.</summary>
public enum CreditPriority
{
    /// <summary>Just woken from a block with credit left: runs first, for I/O latency (credit1's BOOST).</summary>
    Boost = 0,
    Under = 1,
    Over = 2,
}
