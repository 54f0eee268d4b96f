using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class PrivilegedTests
{
    private const uint Sstatus = 0x100;
    private const uint Sie = 0x104;

    [Fact]
    public void MachineCsrsAndWritesToCountersAreIllegal()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrr(5, 0x300));
        Assert.Equal((ulong)Csrr(5, 0x300), m.RunToTrap(2).Stval);

        using var n = new TestMachine(IsaWidth.Rv64, Csrr(5, 0xC02), Csrw(0xC00, 5));
        var s = n.RunToTrap(2);
        Assert.Equal(TestMachine.Base + 4, s.Sepc);
    }

    [Fact]
    public void UserModeCannotReadSupervisorCsrsOrCountersWithoutScounteren()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(0x141, 6), Sret);
        m.Load(TestMachine.Base + 0x100, Csrr(7, 0xC01));
        m.Hart.SetX(6, TestMachine.Base + 0x100);
        var s = m.RunToTrap(2);
        Assert.Equal(TestMachine.Base + 0x100, s.Sepc);
    }

    [Fact]
    public void TimerInterruptIsTakenWhenEnabledWithInterruptCause()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Sie, 5), Csrrsi(0, Sstatus, 2), Jal(0, 0));
        m.Hart.SetX(5, 1 << 5);
        m.Hart.SetTimer(0);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        var s = m.Hart.Save();
        Assert.Equal((1UL << 63) | 5, s.Scause);
        Assert.Equal(0UL, s.Sstatus & 2);      // SIE cleared
        Assert.Equal(0x20UL, s.Sstatus & 0x20); // SPIE set
    }

    [Fact]
    public void ExternalBeatsSoftwareBeatsTimer()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Sie, 5), Csrrsi(0, Sstatus, 2), Jal(0, 0));
        m.Hart.SetX(5, 0x222);
        m.Hart.RaiseInterrupt(Interrupts.SupervisorTimer | Interrupts.SupervisorSoftware | Interrupts.SupervisorExternal);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal((1UL << 63) | 9, m.Hart.Save().Scause);
    }

    [Fact]
    public unsafe void AnExternalInterruptFollowsItsLevelSourceWhenTaken()
    {
        // A Xen vcpu_info's first two bytes: evtchn_upcall_pending, evtchn_upcall_mask.
        var vcpuInfo = stackalloc byte[2];
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Sie, 5), Csrrsi(0, Sstatus, 2), Jal(0, 0));
        m.Hart.SetExternalInterruptLevel(vcpuInfo);
        m.Hart.SetX(5, 0x200);
        // Raised, but the guest already handled it (pending byte clear): no interrupt, no spurious upcall.
        m.Hart.RaiseInterrupt(Interrupts.SupervisorExternal);
        Assert.Equal(ExitReason.SliceDone, m.Hart.Run(1000));
        Assert.Equal(Interrupts.None, m.Hart.PendingInterrupts & Interrupts.SupervisorExternal);
        // Pending but masked: still not taken.
        vcpuInfo[0] = 1;
        vcpuInfo[1] = 1;
        m.Hart.RaiseInterrupt(Interrupts.SupervisorExternal);
        Assert.Equal(ExitReason.SliceDone, m.Hart.Run(1000));
        // Pending and unmasked: taken.
        vcpuInfo[1] = 0;
        m.Hart.RaiseInterrupt(Interrupts.SupervisorExternal);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(TestMachine.Handler, m.Hart.Pc);
        Assert.Equal((1UL << 63) | 9, m.Hart.Save().Scause);
    }

    [Fact]
    public void VectoredStvecSendsInterruptsToBasePlusFourTimesCause()
    {
        using var m = new TestMachine(IsaWidth.Rv32, Csrw(0x105, 6), Csrw(Sie, 5), Csrrsi(0, Sstatus, 2), Jal(0, 0));
        m.Load(TestMachine.Base + 0x200 + 36, Ecall);
        m.Hart.SetX(6, TestMachine.Base + 0x200 + 1);
        m.Hart.SetX(5, 0x200);
        m.Hart.RaiseInterrupt(Interrupts.SupervisorExternal);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(TestMachine.Base + 0x200 + 36, m.Hart.Pc);
        Assert.Equal((1UL << 31) | 9, m.Hart.Save().Scause);
    }

    [Fact]
    public void WfiWithNothingPendingReturnsIdleAndAPendingInterruptWakesIt()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Csrw(Sie, 5), Wfi, Wfi, Ecall);
        m.Hart.SetX(5, 1 << 5);
        Assert.Equal(ExitReason.Idle, m.Hart.Run(1000));
        Assert.Equal(TestMachine.Base + 8, m.Hart.Pc);
        Assert.False(m.Hart.InterruptPending);
        m.Hart.SetTimer(0);
        Assert.True(m.Hart.InterruptPending);
        Assert.Equal(ExitReason.SupervisorCall, m.Hart.Run(1000)); // SIE off: WFI falls through, no trap
        Assert.Equal(TestMachine.Base + 12, m.Hart.Pc);
    }

    [Fact]
    public void APassedDeadlineDoesNotWakeWfiWhileTheTimerIsMasked()
    {
        // Otherwise the host would spin: WFI -> Idle -> "pending" -> run -> WFI ...
        using var m = new TestMachine(IsaWidth.Rv64, Wfi, Ecall);
        m.Hart.SetTimer(0);
        Assert.Equal(ExitReason.Idle, m.Hart.Run(1000));
        Assert.False(m.Hart.InterruptPending);
        Assert.Equal(Interrupts.SupervisorTimer, m.Hart.PendingInterrupts);
    }

    [Fact]
    public void KickFromAnotherThreadEndsAnEndlessLoop()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Jal(0, 0));
        var kicker = new Thread(() => { Thread.Sleep(50); m.Hart.Kick(); });
        kicker.Start();
        Assert.Equal(ExitReason.Kicked, m.Hart.Run(long.MaxValue));
        kicker.Join();
    }

    [Fact]
    public void EbreakAndIllegalInstructionReportPcAndBits()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Ebreak);
        Assert.Equal(TestMachine.Base, m.RunToTrap(3).Stval);

        using var n = new TestMachine(IsaWidth.Rv64, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFUL, n.RunToTrap(2).Stval);
    }

    [Fact]
    public void SaveRestoreRoundTripsOntoAFreshHart()
    {
        using var m = new TestMachine(IsaWidth.Rv32, Addi(5, 0, -7), Csrw(0x140, 5), Ecall);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        var saved = m.Hart.Save();
        var fresh = new Hart(IsaWidth.Rv32, m.Ram);
        fresh.Restore(saved);
        var again = fresh.Save();
        Assert.Equal(saved.X, again.X);
        Assert.Equal(saved with { X = again.X, F = again.F, Time = again.Time }, again);
        Assert.Equal(0xFFFF_FFF9UL, again.Sscratch);
        Assert.Throws<ArgumentException>(() => new Hart(IsaWidth.Rv64, m.Ram).Restore(saved));
    }
}
