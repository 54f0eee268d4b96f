namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// Fires <see cref="KernelTimer"/>s at their deadlines from one thread that sleeps until the
/// earliest one: no polling, so a thousand blocked vCPUs with timers cost nothing until one is
/// due. Re-arming does not search the heap; stale entries are skipped when they surface.
/// </summary>
public sealed class TimerQueue : IDisposable
{
    private readonly object _lock = new();
    private readonly PriorityQueue<(KernelTimer Timer, long Generation), long> _heap = new();
    private readonly ISchedClock _clock;
    private readonly Thread _thread;
    private bool _stopping;

    public TimerQueue(ISchedClock clock)
    {
        _clock = clock;
        _thread = new Thread(Loop) { IsBackground = true, Name = "kernel-timers" };
        _thread.Start();
    }

    public long Fired { get; private set; }

    /// <summary>Sets (or moves) the timer's deadline, in the clock's nanoseconds.</summary>
    public void Arm(KernelTimer timer, long deadlineNs)
    {
        lock (_lock)
        {
            timer.Generation++;
            timer.DeadlineNs = deadlineNs;
            _heap.Enqueue((timer, timer.Generation), deadlineNs);
            if (_heap.Peek().Timer == timer)
            {
                Monitor.Pulse(_lock); // the new deadline is the earliest: shorten the sleep
            }
        }
    }

    public void Cancel(KernelTimer timer)
    {
        lock (_lock)
        {
            timer.Generation++;
            timer.DeadlineNs = long.MaxValue;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.Pulse(_lock);
        }

        _thread.Join();
    }

    private void Loop()
    {
        while (true)
        {
            KernelTimer? due = null;
            long deadline = 0;
            lock (_lock)
            {
                while (!_stopping)
                {
                    if (!_heap.TryPeek(out var top, out var at))
                    {
                        Monitor.Wait(_lock);
                        continue;
                    }

                    if (top.Generation != top.Timer.Generation)
                    {
                        _heap.Dequeue(); // re-armed or cancelled since
                        continue;
                    }

                    var wait = at - _clock.NowNs;
                    if (wait > 0)
                    {
                        Monitor.Wait(_lock, TimeSpan.FromTicks(Math.Max(1, Math.Min(wait / 100, int.MaxValue))));
                        continue;
                    }

                    _heap.Dequeue();
                    due = top.Timer;
                    deadline = due.DeadlineNs;
                    due.DeadlineNs = long.MaxValue;
                    due.Generation++;
                    Fired++;
                    break;
                }

                if (_stopping)
                {
                    return;
                }
            }

            // Outside the lock: the target may re-arm this or another timer.
            due!.Target.OnTimer(deadline);
        }
    }
}
