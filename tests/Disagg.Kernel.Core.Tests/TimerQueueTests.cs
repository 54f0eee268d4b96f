using System.Collections.Concurrent;
using System.Diagnostics;
using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Tests;

public sealed class TimerQueueTests : IDisposable
{
    private readonly TimerQueue _timers = new(MonotonicClock.Instance);

    public void Dispose() => _timers.Dispose();

    private static long Now => MonotonicClock.Instance.NowNs;

    private sealed class Recorder : ITimerTarget
    {
        public ConcurrentQueue<(long Deadline, long FiredAt)> Fires { get; } = new();

        public ManualResetEventSlim Fired { get; } = new();

        public void OnTimer(long deadlineNs)
        {
            Fires.Enqueue((deadlineNs, Now));
            Fired.Set();
        }
    }

    [Fact]
    public void FiresAtTheDeadlineNotBefore()
    {
        var r = new Recorder();
        var deadline = Now + 20_000_000;
        _timers.Arm(new KernelTimer(r), deadline);
        Assert.True(r.Fired.Wait(TimeSpan.FromSeconds(5)));
        var (d, at) = r.Fires.Single();
        Assert.Equal(deadline, d);
        Assert.True(at >= deadline, $"fired {deadline - at} ns early");
    }

    [Fact]
    public void ASubMillisecondWaitSleepsOnceInsteadOfSpinning()
    {
        // A millisecond-rounded sleep returns at once for the last fraction of a millisecond, so the
        // thread spun until the deadline (thousands of wake-ups per timer); the alarm sleeps once.
        for (var i = 0; i < 20; i++)
        {
            var r = new Recorder();
            var before = _timers.Wakeups;
            var deadline = Now + 1_500_000 + (i * 40_000);
            _timers.Arm(new KernelTimer(r), deadline);
            Assert.True(r.Fired.Wait(TimeSpan.FromSeconds(5)));
            Assert.True(r.Fires.Single().FiredAt >= deadline);
            Assert.InRange(_timers.Wakeups - before, 1, 2);
        }
    }

    [Fact]
    public void WithNothingArmedTheThreadNeverWakes()
    {
        var r = new Recorder();
        var timer = new KernelTimer(r);
        _timers.Arm(timer, Now + 5_000_000);
        Assert.True(r.Fired.Wait(TimeSpan.FromSeconds(5)));
        var before = _timers.Wakeups;
        Thread.Sleep(300);
        Assert.Equal(before, _timers.Wakeups);
        Assert.Single(r.Fires);
    }

    [Fact]
    public void ReArmingMovesTheDeadlineAndCancelStopsIt()
    {
        var moved = new Recorder();
        var cancelled = new Recorder();
        var t1 = new KernelTimer(moved);
        var t2 = new KernelTimer(cancelled);
        _timers.Arm(t1, Now + 10_000_000);
        _timers.Arm(t2, Now + 10_000_000);
        _timers.Arm(t1, Now + 40_000_000);
        _timers.Cancel(t2);
        Assert.False(t2.Armed);
        Assert.True(moved.Fired.Wait(TimeSpan.FromSeconds(5)));
        Assert.Single(moved.Fires);
        Assert.True(moved.Fires.Single().FiredAt >= moved.Fires.Single().Deadline);
        // Timers fire in deadline order, so t2 (due 30 ms before t1) would have fired by now.
        Assert.Empty(cancelled.Fires);
        Assert.False(t1.Armed);
    }

    [Fact]
    public void AnEarlierTimerArmedWhileSleepingFiresFirst()
    {
        var late = new Recorder();
        var early = new Recorder();
        _timers.Arm(new KernelTimer(late), Now + 2_000_000_000);
        var sw = Stopwatch.StartNew();
        _timers.Arm(new KernelTimer(early), Now + 10_000_000);
        Assert.True(early.Fired.Wait(TimeSpan.FromSeconds(1)));
        Assert.True(sw.ElapsedMilliseconds < 1000);
        Assert.Empty(late.Fires);
    }

    [Fact]
    public void ManyTimersAllFireInDeadlineOrder()
    {
        var r = new Recorder();
        // Far enough ahead that all 500 are armed before the first is due, even on a loaded host.
        var start = Now + 300_000_000;
        var rng = new Random(7);
        var deadlines = Enumerable.Range(0, 500).Select(_ => start + rng.Next(0, 50_000_000)).ToArray();
        foreach (var d in deadlines)
        {
            _timers.Arm(new KernelTimer(r), d);
        }

        Assert.True(SpinWait.SpinUntil(() => r.Fires.Count == deadlines.Length, TimeSpan.FromSeconds(10)));
        var fired = r.Fires.Select(f => f.Deadline).ToArray();
        Assert.Equal(deadlines.Order(), fired);
        Assert.All(r.Fires, f => Assert.True(f.FiredAt >= f.Deadline));
    }
}
