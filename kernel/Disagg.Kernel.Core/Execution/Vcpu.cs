using System.Diagnostics;
using Disagg.Kernel.Core.Sched;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Execution;

/// <summary>
/// A guest vCPU: a hart, its place in the scheduler, and a timer that wakes it when it waits in
/// WFI for the guest's next timer deadline. Runs only on the pCPU thread the scheduler gives it;
/// the wake-ups (event upcall, IPI, timer) are safe from any thread.
/// </summary>
public sealed partial class Vcpu : ITimerTarget
{
    /// <summary>The most instructions per Run call, so interrupt re-checks stay prompt.</summary>
    private const long MaxChunk = 200_000;

    private const long MinChunk = 1_000;

    /// <summary>Measured instructions per Stopwatch tick, so a chunk ends near the slice's end (caps depend on it).</summary>
    private double _instructionsPerTick = 0.05;

    private readonly CreditScheduler _scheduler;
    private readonly TimerQueue _timers;
    private readonly IVcpuPlatform _platform;

    public Vcpu(int domainId, int id, Hart hart, SchedVcpu sched, CreditScheduler scheduler, TimerQueue timers, IVcpuPlatform platform)
    {
        DomainId = domainId;
        Id = id;
        Hart = hart;
        Sched = sched;
        _scheduler = scheduler;
        _timers = timers;
        _platform = platform;
        Timer = new KernelTimer(this);
        Memory = new VcpuMemoryAccess(hart);
    }

    public int DomainId { get; }

    public int Id { get; }

    public Hart Hart { get; }

    public SchedVcpu Sched { get; }

    public KernelTimer Timer { get; }

    public VcpuMemoryAccess Memory { get; }

    /// <summary>In SCHEDOP_poll: any port of its domain becoming pending wakes it.</summary>
    public bool Polling { get; set; }

    /// <summary>Wakes the vCPU if it blocked (an event it polls for, a timer it set through Xen's interface).</summary>
    public void Wake() => _scheduler.Wake(Sched);

    /// <summary>SBI HSM: started (running or able to), or stopped until another hart starts it.</summary>
    public bool Started { get; set; }

    /// <summary>Set by the platform when the guest's upcall flag is clear again, so SEIP can drop.</summary>
    public Func<bool>? UpcallPending { get; set; }

    /// <summary>An event channel upcall or an interrupt line for this vCPU.</summary>
    public void RaiseInterrupt(Interrupts lines)
    {
        Hart.RaiseInterrupt(lines);
        _scheduler.Wake(Sched);
    }

    public void OnTimer(long deadlineNs) => _scheduler.Wake(Sched);

    /// <summary>Runs the vCPU for up to <paramref name="sliceNs"/>, on the pCPU thread.</summary>
    internal void RunSlice(long sliceNs)
    {
        var end = Stopwatch.GetTimestamp() + (sliceNs * Stopwatch.Frequency / 1_000_000_000);
        Polling = false; // a poll this vCPU was in has returned by now
        PollDeadline = null;
        try
        {
            if (Hart.ParkedMmio is not null && WaitForDeviceModel())
            {
                return;
            }

            while (true)
            {
                SyncUpcallLine();
                var started = Stopwatch.GetTimestamp();
                var retired = Hart.InstructionsRetired;
                var chunk = (long)Math.Clamp((end - started) * _instructionsPerTick, MinChunk, MaxChunk);
                var exit = Hart.Run(chunk);
                var took = Stopwatch.GetTimestamp() - started;
                if (exit == ExitReason.SliceDone && took > 0)
                {
                    _instructionsPerTick = (0.75 * _instructionsPerTick) + (0.25 * (Hart.InstructionsRetired - retired) / took);
                }

                switch (exit)
                {
                    case ExitReason.SliceDone:
                        if (Stopwatch.GetTimestamp() >= end)
                        {
                            return;
                        }

                        continue;
                    case ExitReason.Kicked:
                        return;
                    case ExitReason.Idle:
                        if (BlockUntilInterrupt())
                        {
                            return;
                        }

                        continue;
                    case ExitReason.MmioPending:
                        if (IssueToDeviceModel())
                        {
                            return;
                        }

                        continue;
                    case ExitReason.SupervisorCall:
                        switch (_platform.HandleEcall(this))
                        {
                            case VcpuAction.Continue:
                                continue;
                            case VcpuAction.Yield:
                            case VcpuAction.Deschedule:
                                return;
                        }

                        continue;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _platform.OnInternalError(this, e);
        }
    }

    /// <summary>
    /// WFI: block in the scheduler first, then look for a pending interrupt; one that arrived in
    /// between finds the vCPU blocked and wakes it, so no wake-up is lost. True: descheduled.
    /// </summary>
    internal bool BlockUntilInterrupt(bool orEvent = false, Func<bool>? orCondition = null)
    {
        _scheduler.Block(Sched);
        SyncUpcallLine();
        if (Hart.InterruptPending || (orEvent && UpcallPending?.Invoke() == true) || orCondition?.Invoke() == true)
        {
            _scheduler.Wake(Sched);
            return false;
        }

        ArmGuestTimer(PollDeadline);
        return true;
    }

    /// <summary>A SCHEDOP_poll timeout in `time` ticks, if one is pending.</summary>
    internal ulong? PollDeadline { get; set; }

    /// <summary>
    /// Arms the kernel timer for the guest's SBI timer deadline, so a WFI with a deadline wakes on time.
    /// Only when sie enables the timer: a masked one cannot end the wait, and arming it anyway would
    /// wake the vCPU at a past deadline again and again (a spin in the kernel for a guest that sleeps).
    /// </summary>
    internal void ArmGuestTimer(ulong? earlierDeadline = null)
    {
        var guest = (Hart.EnabledInterrupts & Interrupts.SupervisorTimer) != 0 ? Hart.TimerDeadline : ulong.MaxValue;
        var deadline = Math.Min(guest, earlierDeadline ?? ulong.MaxValue);
        if (deadline == ulong.MaxValue)
        {
            _timers.Cancel(Timer);
            return;
        }

        var now = Hart.Time;
        var ticks = deadline > now ? deadline - now : 0;
        var ns = ticks > long.MaxValue / 200 ? long.MaxValue / 2 : (long)ticks * (long)(1_000_000_000 / Hart.TimebaseHz);
        _timers.Arm(Timer, MonotonicClock.Instance.NowNs + ns);
    }

    /// <summary>
    /// The upcall is level-triggered (ARCHITECTURE §2: raised while evtchn_upcall_pending is set).
    /// Clear-then-recheck: an upcall raised between our read and our clear re-raises the line.
    /// </summary>
    private void SyncUpcallLine()
    {
        if (UpcallPending is { } pending && !pending())
        {
            Hart.ClearInterrupt(Interrupts.SupervisorExternal);
            if (pending())
            {
                Hart.RaiseInterrupt(Interrupts.SupervisorExternal);
            }
        }
    }
}
