using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Execution;

/// <summary>
/// One physical CPU: a host thread that asks the scheduler what to run and runs it. When there
/// is nothing, it sleeps until kicked (or until the scheduler's wake-up time), so an idle host
/// burns no CPU. Kicks are sticky: one that arrives between a decision and the start of a run
/// still stops that run at its first block boundary.
/// </summary>
public sealed class Pcpu : IDisposable
{
    private readonly CreditScheduler _scheduler;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly Thread _thread;
    private volatile Vcpu? _current;
    private int _kickPending;
    private volatile bool _stopping;

    internal Pcpu(int index, CreditScheduler scheduler)
    {
        Index = index;
        _scheduler = scheduler;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"pcpu{index}" };
    }

    public int Index { get; }

    public long IdleWakeups { get; private set; }

    internal void Start() => _thread.Start();

    /// <summary>Wake the pCPU if it sleeps, stop the vCPU it runs soon. Thread-safe, never blocks.</summary>
    public void Kick()
    {
        if (Interlocked.Exchange(ref _kickPending, 1) == 0)
        {
            _current?.Hart.Kick();
            _wake.Release();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Kick();
        _wake.Release();
        _thread.Join();
        _wake.Dispose();
    }

    private void Loop()
    {
        while (!_stopping)
        {
            Volatile.Write(ref _kickPending, 0);
            var decision = _scheduler.PickNext(Index);
            if (decision.Vcpu is null)
            {
                IdleWakeups++;
                // Drain stale releases first, then sleep; a kick after the drain releases again.
                while (_wake.Wait(0))
                {
                }

                if (Volatile.Read(ref _kickPending) == 0)
                {
                    var wait = decision.SliceNs == SchedDecision.Forever ? Timeout.Infinite : (int)Math.Clamp(decision.SliceNs / 1_000_000, 1, int.MaxValue);
                    _wake.Wait(wait);
                }

                continue;
            }

            var vcpu = (Vcpu)decision.Vcpu.Owner!;
            _current = vcpu;
            if (Volatile.Read(ref _kickPending) != 0)
            {
                vcpu.Hart.Kick();
            }

            vcpu.RunSlice(decision.SliceNs);
            _current = null;
        }
    }
}
