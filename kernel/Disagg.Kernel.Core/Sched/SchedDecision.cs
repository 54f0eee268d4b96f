namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// What a pCPU does next: run <see cref="Vcpu"/> for at most <see cref="SliceNs"/>, or (when
/// Vcpu is null) sleep until kicked or for <see cref="SliceNs"/> if that is not <see cref="Forever"/>.
/// </summary>
public readonly record struct SchedDecision(SchedVcpu? Vcpu, long SliceNs)
{
    public const long Forever = long.MaxValue;

    public bool IsIdle => Vcpu is null;
}
