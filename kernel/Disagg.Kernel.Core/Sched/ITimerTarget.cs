namespace Disagg.Kernel.Core.Sched;

/// <summary>What a <see cref="TimerQueue"/> calls when a deadline passes (wake a blocked vCPU, raise VIRQ_TIMER). Must not block.</summary>
public interface ITimerTarget
{
    void OnTimer(long deadlineNs);
}
