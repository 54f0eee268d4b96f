namespace Disagg.Kernel.Cpu;

/// <summary>The `time` CSR's origin. Harts of one SMP guest must agree on time, so they share one.</summary>
public sealed unsafe partial class Hart
{
    /// <summary>Makes this hart's `time` read what <paramref name="source"/>'s reads (set before it first runs).</summary>
    public void ShareTimeBase(Hart source) => _timeEpoch = source._timeEpoch;
}
