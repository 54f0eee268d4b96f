namespace Disagg.Kernel.Core.Sched;

/// <summary>The scheduler's notion of now, in nanoseconds; a monotonic host clock in the kernel, a simulated one in tests.</summary>
public interface ISchedClock
{
    long NowNs { get; }
}
