namespace Disagg.Kernel.Core.Sched;

/// <summary>One re-armable deadline owned by a vCPU or a domain, fired by a <see cref="TimerQueue"/>.</summary>
public sealed class KernelTimer(ITimerTarget target)
{
    public ITimerTarget Target { get; } = target;

    /// <summary>Bumped on every arm and cancel; queue entries of an older generation are stale and skipped.</summary>
    internal long Generation { get; set; }

    internal long DeadlineNs { get; set; } = long.MaxValue;

    public bool Armed => DeadlineNs != long.MaxValue;
}
