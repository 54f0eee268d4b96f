using Disagg.Interop;

namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// Fires <see cref="KernelTimer"/>s at their deadlines from one thread that sleeps until the
/// earliest one: no polling, so a thousand blocked vCPUs with timers cost nothing until one is
/// due. The sleep is a <see cref="OneShotAlarm"/> (a timerfd), precise to the nanosecond: a
/// millisecond-rounded wait would spin through the last millisecond before every deadline, which
/// with a guest ticking at 100 Hz was a tenth of a core per guest. Re-arming does not search the
/// heap; stale entries are skipped when they surface.
/// </summary>
public sealed class TimerQueue : IDisposable
{
    private readonly object _lock = new();
    private readonly PriorityQueue<(KernelTimer Timer, long Generation), long> _heap = new();
    private readonly ISchedClock _clock;
    private readonly OneShotAlarm _alarm = new();
    private readonly Thread _thread;
    private long _alarmAt = long.MaxValue;
    private bool _stopping;

    public TimerQueue(ISchedClock clock)
    {
        _clock = clock;
        _thread = new Thread(Loop) { IsBackground = true, Name = "kernel-timers" };
        _thread.Start();
    }

    public long Fired { get; private set; }

    /// <summary>How often the timer thread has woken from its sleep: once per due deadline, plus stale entries.</summary>
    public long Wakeups { get; private set; }

    /// <summary>Sets (or moves) the timer's deadline, in the clock's nanoseconds.</summary>
    public void Arm(KernelTimer timer, long deadlineNs)
    {
        lock (_lock)
        {
            timer.Generation++;
            timer.DeadlineNs = deadlineNs;
            _heap.Enqueue((timer, timer.Generation), deadlineNs);
            if (deadlineNs < _alarmAt)
            {
                SetAlarm(deadlineNs); // the new deadline is the earliest: shorten the sleep
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
            SetAlarm(long.MinValue);
        }

        _thread.Join();
        _alarm.Dispose();
    }

    private void SetAlarm(long deadlineNs)
    {
        _alarmAt = deadlineNs;
        _alarm.SetIn(deadlineNs == long.MinValue ? 1 : deadlineNs - _clock.NowNs);
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
                        _alarmAt = long.MaxValue;
                        _alarm.Disarm();
                        break;
                    }

                    if (top.Generation != top.Timer.Generation)
                    {
                        _heap.Dequeue(); // re-armed or cancelled since
                        continue;
                    }

                    if (at > _clock.NowNs)
                    {
                        SetAlarm(at);
                        break;
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

            if (due is null)
            {
                // Outside the lock: Arm moves the alarm while we wait; an expiry before the wait is kept.
                _alarm.Wait();
                Wakeups++;
                continue;
            }

            // Outside the lock: the target may re-arm this or another timer.
            due.Target.OnTimer(deadline);
        }
    }
}
