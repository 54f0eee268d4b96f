namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// Credit scheduling after Xen's credit1: every accounting period the CPU time of all pCPUs is
/// handed out as credit to the domains that want CPU, in proportion to their weight and never
/// above their cap; running costs credit; vCPUs with credit (UNDER) run before those without
/// (OVER), a vCPU just woken with credit (BOOST) before both. Per-pCPU runqueues honour hard
/// affinity; a pCPU with no UNDER work steals it from others before running its own OVER work,
/// and runs OVER work rather than idle (work-conserving) unless a cap forbids it.
///
/// One lock guards it all: it is taken once per slice and per wake/block, never per guest
/// instruction. Idle domains are not visited by accounting, so they cost nothing.
/// </summary>
public sealed partial class CreditScheduler
{
    private readonly object _lock = new();
    private readonly ISchedClock _clock;
    private readonly IPcpuKicker _kicker;
    private readonly CreditSchedulerOptions _options;
    private readonly PcpuState[] _pcpus;
    private readonly List<SchedDomain> _active = [];
    private readonly long _minCapSliceNs;
    private long _nextAccountingNs;

    public CreditScheduler(int pcpus, ISchedClock clock, IPcpuKicker kicker, CreditSchedulerOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pcpus, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pcpus, 64); // affinity is a 64-bit mask
        _clock = clock;
        _kicker = kicker;
        _options = options ?? new CreditSchedulerOptions();
        _pcpus = new PcpuState[pcpus];
        for (var i = 0; i < pcpus; i++)
        {
            _pcpus[i] = new PcpuState();
        }

        _nextAccountingNs = clock.NowNs + _options.AccountingPeriodNs;
        _minCapSliceNs = _options.MinSliceNs / 10;
    }

    public int PcpuCount => _pcpus.Length;

    public ulong AllPcpus => _pcpus.Length == 64 ? ulong.MaxValue : (1UL << _pcpus.Length) - 1;

    public SchedDomain AddDomain(int domainId, int weight, int cap)
    {
        ValidateParams(weight, cap);
        return new SchedDomain(domainId, weight, cap);
    }

    /// <summary>Adds a vCPU, paused (as a new domain's vCPUs are until unpaused).</summary>
    public SchedVcpu AddVcpu(SchedDomain domain, int vcpuId, ulong affinity, object? owner = null)
    {
        affinity &= AllPcpus;
        if (affinity == 0)
        {
            throw new ArgumentException($"domain {domain.DomainId} vcpu {vcpuId}: affinity allows none of the {_pcpus.Length} pCPUs", nameof(affinity));
        }

        var v = new SchedVcpu(domain, vcpuId, affinity, owner) { Pcpu = LowestBit(affinity) };
        lock (_lock)
        {
            domain.VcpuList.Add(v);
        }

        return v;
    }

    /// <summary>Names the execution-side object a vCPU entry schedules, when it could not exist before the entry.</summary>
    public void Bind(SchedVcpu v, object owner)
    {
        lock (_lock)
        {
            v.Owner = owner;
        }
    }

    public void SetParams(SchedDomain domain, int weight, int cap)
    {
        ValidateParams(weight, cap);
        lock (_lock)
        {
            domain.Weight = weight;
            domain.Cap = cap;
            foreach (var v in domain.VcpuList)
            {
                Reconcile(v);
            }
        }
    }

    /// <summary>Changes hard affinity; a vCPU running or queued where it may no longer run moves.</summary>
    public void SetAffinity(SchedVcpu v, ulong affinity)
    {
        affinity &= AllPcpus;
        if (affinity == 0)
        {
            throw new ArgumentException($"domain {v.Domain.DomainId} vcpu {v.VcpuId}: affinity allows none of the {_pcpus.Length} pCPUs", nameof(affinity));
        }

        lock (_lock)
        {
            v.Affinity = affinity;
            if (v.Queue is not null && !v.MayRunOn(v.Pcpu))
            {
                v.Queue.Remove(v);
                Enqueue(v);
            }
            else if (v.State == VcpuRunState.Running && !v.MayRunOn(v.Pcpu))
            {
                _kicker.Kick(v.Pcpu);
            }
        }
    }

    public void Pause(SchedVcpu v) => Change(v, pauseDelta: 1, blocked: null);

    public void Unpause(SchedVcpu v) => Change(v, pauseDelta: -1, blocked: null);

    /// <summary>The vCPU waits for an event or timer (WFI, sched_op block); its pCPU should call <see cref="PickNext"/>.</summary>
    public void Block(SchedVcpu v) => Change(v, pauseDelta: 0, blocked: true);

    /// <summary>An event, interrupt or timer for a blocked vCPU: it becomes runnable, boosted if it has credit.</summary>
    public void Wake(SchedVcpu v) => Change(v, pauseDelta: 0, blocked: false);

    /// <summary>Takes the vCPU out of scheduling for good; if it is running, its pCPU drops it at the next decision.</summary>
    public void Remove(SchedVcpu v)
    {
        lock (_lock)
        {
            v.Removed = true;
            Reconcile(v);
            v.Domain.VcpuList.Remove(v);
            if (v.Domain.VcpuList.Count == 0)
            {
                v.Domain.Removed = true;
                _active.Remove(v.Domain);
            }
        }
    }

    /// <summary>True while a pCPU is executing this vCPU (the kernel waits for false before freeing it).</summary>
    public bool IsOnCpu(SchedVcpu v)
    {
        lock (_lock)
        {
            return _pcpus[v.Pcpu].Current == v;
        }
    }

    /// <summary>CPU time this vCPU has had, including the slice it is running now.</summary>
    public long RunTimeNs(SchedVcpu v)
    {
        lock (_lock)
        {
            return v.TotalRunNs + (_pcpus[v.Pcpu].Current == v ? _clock.NowNs - v.RunStartNs : 0);
        }
    }

    /// <summary>
    /// Called by pCPU <paramref name="pcpu"/> when its current vCPU's slice ended, it blocked, or
    /// the pCPU was kicked: charges the time it ran and chooses what runs next.
    /// </summary>
    public SchedDecision PickNext(int pcpu)
    {
        lock (_lock)
        {
            var now = _clock.NowNs;
            var pc = _pcpus[pcpu];
            if (pc.Current is { } prev)
            {
                Charge(prev, now);
                pc.Current = null;
                prev.State = VcpuRunState.Runnable; // provisional: Reconcile decides
                prev.Priority = prev.CreditNs > 0 ? CreditPriority.Under : CreditPriority.Over;
                Reconcile(prev, preferPcpu: pcpu);
            }

            if (now >= _nextAccountingNs)
            {
                Account(now);
            }

            while (true)
            {
                var next = TakeBest(pcpu);
                if (next is null)
                {
                    pc.Idle = true;
                    return new SchedDecision(null, HasParked() ? Math.Max(_nextAccountingNs - now, 0) : SchedDecision.Forever);
                }

                // Concurrent vCPUs of a capped domain split what is left of its budget: each slice
                // is reserved when granted, so together they cannot overrun the cap.
                var slice = Math.Min(_options.TimesliceNs, Math.Max(_nextAccountingNs - now, _options.MinSliceNs));
                var capLeft = next.Domain.CapLeftNs(_options.AccountingPeriodNs);
                if (capLeft < _minCapSliceNs)
                {
                    next.State = VcpuRunState.Parked;
                    continue;
                }

                slice = Math.Min(slice, capLeft);
                next.Domain.ReservedNs += next.Domain.Cap == 0 ? 0 : slice;
                next.SliceNs = slice;
                pc.Idle = false;
                pc.Current = next;
                next.Pcpu = pcpu;
                next.State = VcpuRunState.Running;
                next.RunStartNs = now;
                return new SchedDecision(next, slice);
            }
        }
    }

    private static void ValidateParams(int weight, int cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, 65535);
        ArgumentOutOfRangeException.ThrowIfNegative(cap);
    }

    private static int LowestBit(ulong mask) => System.Numerics.BitOperations.TrailingZeroCount(mask);

    private void Change(SchedVcpu v, int pauseDelta, bool? blocked)
    {
        lock (_lock)
        {
            var wasBlocked = v.Blocked;
            v.PauseCount = Math.Max(0, v.PauseCount + pauseDelta);
            if (blocked is { } b)
            {
                v.Blocked = b;
            }

            if (wasBlocked && blocked == false && v.CreditNs > 0)
            {
                v.Priority = CreditPriority.Boost;
            }

            Reconcile(v);
        }
    }

    private void Charge(SchedVcpu v, long now)
    {
        var ran = Math.Max(0, now - v.RunStartNs);
        v.CreditNs -= ran;
        v.TotalRunNs += ran;
        v.Domain.UsedThisPeriodNs += ran;
        if (v.Domain.Cap != 0)
        {
            v.Domain.ReservedNs -= v.SliceNs;
        }

        v.SliceNs = 0;
    }

    private VcpuRunState Desired(SchedVcpu v) =>
        v.Removed || v.PauseCount > 0 ? VcpuRunState.Paused
        : v.Blocked ? VcpuRunState.Blocked
        : v.Domain.CapLeftNs(_options.AccountingPeriodNs) < _minCapSliceNs ? VcpuRunState.Parked
        : VcpuRunState.Runnable;

    /// <summary>Moves a vCPU to where its derived state says it belongs: a runqueue, off all queues, or off its pCPU.</summary>
    private void Reconcile(SchedVcpu v, int preferPcpu = -1)
    {
        var desired = Desired(v);
        if (desired != VcpuRunState.Runnable)
        {
            v.Queue?.Remove(v);
        }

        if (v.State == VcpuRunState.Running && _pcpus[v.Pcpu].Current == v)
        {
            // Still on its pCPU: the pCPU applies the change at its next decision.
            if (desired != VcpuRunState.Runnable || !v.MayRunOn(v.Pcpu))
            {
                _kicker.Kick(v.Pcpu);
            }

            return;
        }

        if (desired == VcpuRunState.Runnable)
        {
            if (v.Queue is null)
            {
                v.State = VcpuRunState.Runnable;
                if (preferPcpu >= 0 && v.MayRunOn(preferPcpu))
                {
                    v.Pcpu = preferPcpu;
                }

                Enqueue(v);
            }

            return;
        }

        v.State = desired;
    }

    private void Enqueue(SchedVcpu v)
    {
        if (!v.Domain.Active && !v.Domain.Removed)
        {
            v.Domain.Active = true;
            _active.Add(v.Domain);
        }

        // Prefer an idle pCPU it may run on (it starts at once), else stay where its cache is.
        var target = v.MayRunOn(v.Pcpu) ? v.Pcpu : LowestBit(v.Affinity);
        if (!_pcpus[target].Idle)
        {
            for (var p = 0; p < _pcpus.Length; p++)
            {
                if (_pcpus[p].Idle && v.MayRunOn(p))
                {
                    target = p;
                    break;
                }
            }
        }

        v.Pcpu = target;
        var pc = _pcpus[target];
        pc.Queues[(int)v.Priority].PushBack(v);
        if (pc.Idle || (pc.Current is { } cur && cur.Priority > v.Priority && v.Priority != CreditPriority.Over))
        {
            pc.Idle = false; // one kick is enough until it decides again
            _kicker.Kick(target);
        }
    }

    private SchedVcpu? TakeBest(int pcpu)
    {
        // Own BOOST, own UNDER, then steal BOOST/UNDER, then own OVER, then steal OVER.
        var own = _pcpus[pcpu].Queues;
        var v = own[(int)CreditPriority.Boost].BestFor(pcpu) ?? own[(int)CreditPriority.Under].BestFor(pcpu)
            ?? Steal(pcpu, CreditPriority.Boost) ?? Steal(pcpu, CreditPriority.Under)
            ?? own[(int)CreditPriority.Over].BestFor(pcpu) ?? Steal(pcpu, CreditPriority.Over);
        v?.Queue!.Remove(v);
        return v;
    }

    private SchedVcpu? Steal(int pcpu, CreditPriority priority)
    {
        for (var i = 1; i < _pcpus.Length; i++)
        {
            var other = (pcpu + i) % _pcpus.Length;
            if (_pcpus[other].Queues[(int)priority].BestFor(pcpu) is { } v)
            {
                return v;
            }
        }

        return null;
    }

    private sealed class PcpuState
    {
        public RunQueue[] Queues { get; } = [new RunQueue(), new RunQueue(), new RunQueue()];

        public SchedVcpu? Current { get; set; }

        public bool Idle { get; set; } = true;
    }
}
