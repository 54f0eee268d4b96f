using Disagg.Kernel.Core.Sched;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests;

/// <summary>An idle guest costs nothing: a vCPU in WFI with no timer pending is never woken, by anyone.</summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class IdleVcpuTests : IDisposable
{
    private readonly HypervisorFixture _hv = new(pcpus: 2);

    public void Dispose() => _hv.Dispose();

    [Fact]
    public void AVcpuBlockedWithNoTimerGetsNoWakeupsAndNoCpu()
    {
        var d = _hv.Boot(new GuestProgram().Emit(Asm.Wfi).JumpBack(1), name: "idle");
        var vcpu = d.Vcpus[0];
        Assert.True(Eventually.Holds(() => vcpu.Sched.State == VcpuRunState.Blocked), $"state {vcpu.Sched.State}");
        Thread.Sleep(50); // let the pCPUs go back to sleep after the boot

        var hv = _hv.Hypervisor;
        var (pcpuWakeups, timerWakeups, fired, cpu) = (hv.Pcpus.Sum(p => p.IdleWakeups), hv.Timers.Wakeups, hv.Timers.Fired, d.CpuTimeNs);
        Thread.Sleep(500);
        Assert.Equal(VcpuRunState.Blocked, vcpu.Sched.State);
        Assert.False(vcpu.Timer.Armed);
        Assert.Equal(pcpuWakeups, hv.Pcpus.Sum(p => p.IdleWakeups));
        Assert.Equal(timerWakeups, hv.Timers.Wakeups);
        Assert.Equal(fired, hv.Timers.Fired);
        Assert.Equal(cpu, d.CpuTimeNs);
    }

    /// <summary>SBI set_timer (a7 = TIME, a6 = 0) to the time CSR plus <paramref name="ticks"/>, or to never when 0.</summary>
    private static GuestProgram SetTimer(GuestProgram p, int ticks)
    {
        if (ticks == 0)
        {
            p.Li(GuestProgram.A0, -1);
        }
        else
        {
            p.Emit(Asm.Csrrs(GuestProgram.A0, 0xC01, 0)).Li(GuestProgram.T1, ticks).Emit(Asm.Add(GuestProgram.A0, GuestProgram.A0, GuestProgram.T1));
        }

        return p.Li(GuestProgram.A7, 0x54494D45).Li(GuestProgram.A6, 0).Emit(Asm.Ecall);
    }

    [Fact]
    public void AVcpuWaitingForADeadlineIsWokenOnceForIt()
    {
        // sie.STIE on, a deadline 20 ms ahead (10 MHz time CSR), WFI: the one kernel timer fires once;
        // then the deadline is cancelled and the vCPU waits with nothing armed.
        var p = new GuestProgram().Li(GuestProgram.T0, (int)Interrupts.SupervisorTimer).Emit(Asm.Csrrs(0, 0x104, GuestProgram.T0));
        SetTimer(p, 200_000).Emit(Asm.Wfi);
        SetTimer(p, 0).Emit(Asm.Wfi).JumpBack(1);
        var fired = _hv.Hypervisor.Timers.Fired;
        var d = _hv.Boot(p, name: "deadline");
        var vcpu = d.Vcpus[0];
        Assert.True(Eventually.Holds(() => _hv.Hypervisor.Timers.Fired > fired && vcpu.Sched.State == VcpuRunState.Blocked && !vcpu.Timer.Armed));
        Thread.Sleep(300);
        Assert.Equal(fired + 1, _hv.Hypervisor.Timers.Fired);
        Assert.Equal(VcpuRunState.Blocked, vcpu.Sched.State);
    }

    [Fact]
    public void AMaskedPastDeadlineDoesNotWakeAWfiAgainAndAgain()
    {
        // sie = 0 and a deadline 1 ms ahead: the timer can never end the WFI, so the kernel must not
        // arm one (it used to, and then re-armed it at the past deadline on every re-block: a spin).
        var p = SetTimer(new GuestProgram(), 10_000).Emit(Asm.Wfi).JumpBack(1);
        var d = _hv.Boot(p, name: "masked");
        var vcpu = d.Vcpus[0];
        Assert.True(Eventually.Holds(() => vcpu.Sched.State == VcpuRunState.Blocked));
        Thread.Sleep(50);
        var (fired, cpu) = (_hv.Hypervisor.Timers.Fired, d.CpuTimeNs);
        Thread.Sleep(300);
        Assert.Equal(fired, _hv.Hypervisor.Timers.Fired);
        Assert.Equal(cpu, d.CpuTimeNs);
        Assert.False(vcpu.Timer.Armed);
    }
}
