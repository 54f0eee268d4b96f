using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// Drives a <see cref="CreditScheduler"/> as the kernel's pCPU threads would, in simulated time:
/// each pCPU asks for a decision, "runs" the vCPU for its slice (or less, if the workload blocks
/// it sooner), and asks again; an idle pCPU sleeps until kicked or its timeout.
/// </summary>
internal sealed class SchedulerSimulation : ISchedClock, IPcpuKicker
{
    private readonly long[] _nextDecisionNs;
    private readonly SchedVcpu?[] _running;
    private readonly Dictionary<SchedVcpu, Workload> _workloads = [];

    public SchedulerSimulation(int pcpus, CreditSchedulerOptions? options = null)
    {
        _nextDecisionNs = new long[pcpus];
        _running = new SchedVcpu?[pcpus];
        Scheduler = new CreditScheduler(pcpus, this, this, options);
    }

    public CreditScheduler Scheduler { get; }

    public long NowNs { get; private set; }

    public int Decisions { get; private set; }

    public int IdleWakeups { get; private set; }

    public int Kicks { get; private set; }

    /// <summary>A vCPU that runs <paramref name="burstNs"/> then blocks for <paramref name="sleepNs"/> (0 = always busy).</summary>
    public SchedVcpu AddVcpu(SchedDomain d, int id, long burstNs = 0, long sleepNs = 0, ulong affinity = ulong.MaxValue)
    {
        var v = Scheduler.AddVcpu(d, id, affinity);
        _workloads[v] = new Workload(burstNs, sleepNs) { BurstLeftNs = burstNs };
        return v;
    }

    public void Kick(int pcpu)
    {
        Kicks++;
        if (_running[pcpu] is null || _nextDecisionNs[pcpu] > NowNs)
        {
            _nextDecisionNs[pcpu] = Math.Min(_nextDecisionNs[pcpu], NowNs);
        }
    }

    public void RunFor(long durationNs)
    {
        var end = NowNs + durationNs;
        while (true)
        {
            var p = 0;
            for (var i = 1; i < _nextDecisionNs.Length; i++)
            {
                if (_nextDecisionNs[i] < _nextDecisionNs[p])
                {
                    p = i;
                }
            }

            var wakeAt = NextWake();
            var t = Math.Min(_nextDecisionNs[p], wakeAt.At);
            if (t > end)
            {
                NowNs = end;
                return;
            }

            NowNs = t;
            if (wakeAt.At <= _nextDecisionNs[p] && wakeAt.Vcpu is { } sleeper)
            {
                _workloads[sleeper].WakeAtNs = long.MaxValue;
                _workloads[sleeper].BurstLeftNs = _workloads[sleeper].BurstNs;
                Scheduler.Wake(sleeper);
                continue;
            }

            Step(p);
        }
    }

    private void Step(int p)
    {
        if (_running[p] is { } prev)
        {
            var w = _workloads[prev];
            if (w.BurstNs > 0)
            {
                w.BurstLeftNs -= NowNs - w.SliceStartNs;
                if (w.BurstLeftNs <= 0)
                {
                    Scheduler.Block(prev);
                    w.WakeAtNs = NowNs + w.SleepNs;
                }
            }
        }

        var decision = Scheduler.PickNext(p);
        Decisions++;
        _running[p] = decision.Vcpu;
        if (decision.Vcpu is { } v)
        {
            var w = _workloads[v];
            w.SliceStartNs = NowNs;
            var run = w.BurstNs > 0 ? Math.Min(decision.SliceNs, Math.Max(w.BurstLeftNs, 1)) : decision.SliceNs;
            _nextDecisionNs[p] = NowNs + run;
        }
        else
        {
            IdleWakeups++;
            _nextDecisionNs[p] = decision.SliceNs == SchedDecision.Forever ? long.MaxValue : NowNs + Math.Max(decision.SliceNs, 1);
        }
    }

    private (long At, SchedVcpu? Vcpu) NextWake()
    {
        (long At, SchedVcpu? Vcpu) best = (long.MaxValue, null);
        foreach (var (v, w) in _workloads)
        {
            if (w.WakeAtNs < best.At)
            {
                best = (w.WakeAtNs, v);
            }
        }

        return best;
    }

    private sealed class Workload(long burstNs, long sleepNs)
    {
        public long BurstNs { get; } = burstNs;

        public long SleepNs { get; } = sleepNs;

        public long BurstLeftNs { get; set; }

        public long SliceStartNs { get; set; }

        public long WakeAtNs { get; set; } = long.MaxValue;
    }
}
