using System.Diagnostics;

namespace Disagg.Kernel.Core.Sched;

/// <summary>The host's monotonic clock in nanoseconds.</summary>
public sealed class MonotonicClock : ISchedClock
{
    public static readonly MonotonicClock Instance = new();

    private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    public long NowNs => (long)(Stopwatch.GetTimestamp() * NsPerTick);
}
