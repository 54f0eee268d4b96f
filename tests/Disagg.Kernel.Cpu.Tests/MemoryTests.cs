using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class MemoryTests
{
    [Fact]
    public void MisalignedLoadsAndStoresAreEmulatedAcrossPages()
    {
        var address = TestMachine.Data + 0xFFD; // 8 bytes straddling a page boundary
        using var m = new TestMachine(IsaWidth.Rv64, Sd(6, 5, 0), Ld(7, 5, 0), Lw(8, 5, 1), Ecall);
        m.Hart.SetX(5, address);
        m.Hart.SetX(6, 0x8877_6655_4433_2211);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(0x8877_6655_4433_2211UL, m.X(7));
        Assert.Equal(0x0000_0000_5544_3322UL, m.X(8));
        Assert.Equal(0x8877_6655_4433_2211UL, m.ReadU64(address));
    }

    [Fact]
    public void LoadOutsideRamIsAnAccessFaultWithTheAddress()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Ld(7, 5, 0));
        m.Hart.SetX(5, 0x4000_0000);
        var s = m.RunToTrap(5);
        Assert.Equal(0x4000_0000UL, s.Stval);
    }

    [Fact]
    public void SelfModifyingCodeRunsTheNewInstruction()
    {
        // Execute the target once (decoded and cached), overwrite it, run it again.
        var target = TestMachine.Base + 0x100;
        using var m = new TestMachine(IsaWidth.Rv64, Jal(1, 0x100), Sw(6, 5, 0), Jal(1, 0xF8), Ecall);
        m.Load(target, Addi(10, 10, 1), Jalr(0, 1, 0));
        m.Hart.SetX(5, target);
        m.Hart.SetX(6, Addi(10, 10, 100));
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(101UL, m.X(10));
    }

    [Fact]
    public void InstructionSpanningTwoPagesRunsAndSeesChangesToItsSecondHalf()
    {
        // jal to base+0xFFE, where a 32-bit addi straddles the page boundary; then ecall at base+0x1002.
        using var m = new TestMachine(IsaWidth.Rv64, Jal(0, 0xFFE));
        var addi = Addi(10, 10, 5);
        m.Load16(TestMachine.Base + 0xFFE, (ushort)addi, (ushort)(addi >> 16), (ushort)Ecall, (ushort)(Ecall >> 16));
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(5UL, m.X(10));

        var changed = Addi(10, 10, 0x7F0); // differs only in the upper half, which lies in the second page
        Assert.Equal((ushort)addi, (ushort)changed);
        m.Load16(TestMachine.Base + 0x1000, (ushort)(changed >> 16));
        m.Hart.Pc = TestMachine.Base;
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(5UL + 0x7F0, m.X(10));
    }

    [Fact]
    public void DirtyLoggingSeesTheFirstWriteOfEveryRound()
    {
        using var m = new TestMachine(IsaWidth.Rv64, Sd(6, 5, 0), Sd(6, 5, 8), Ecall, Sd(6, 5, 16), Ecall);
        m.Ram.DirtyLogging = true;
        m.Hart.SetX(5, TestMachine.Data);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal([TestMachine.Data >> 12], m.Ram.TakeDirtyFrames());
        Assert.Empty(m.Ram.TakeDirtyFrames());
        m.Hart.CompleteSbiCall(0, 0);
        Assert.Equal(ExitReason.SupervisorCall, m.Run()); // the TLB still maps the page, but the new round must be seen
        Assert.Equal([TestMachine.Data >> 12], m.Ram.TakeDirtyFrames());
    }

    [Fact]
    public void LrScSucceedsOnlyWithAReservation()
    {
        using var m = new TestMachine(IsaWidth.Rv64, ScW(10, 5, 6), LrW(11, 5), ScW(12, 5, 6), ScW(13, 5, 6), Ecall);
        m.Hart.SetX(5, TestMachine.Data);
        m.Hart.SetX(6, 77);
        m.Load(TestMachine.Data, 0xFFFF_FFFF);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(1UL, m.X(10));
        Assert.Equal(ulong.MaxValue, m.X(11));
        Assert.Equal(0UL, m.X(12));
        Assert.Equal(1UL, m.X(13));
        Assert.Equal(77U, m.ReadU32(TestMachine.Data));
    }

    [Fact]
    public void AmosReturnTheOldValueAndMisalignedAmoTraps()
    {
        using var m = new TestMachine(IsaWidth.Rv64, AmoAddD(10, 5, 6), AmoMaxW(11, 7, 6), Addi(7, 7, 2), AmoMaxW(0, 7, 6));
        m.Hart.SetX(5, TestMachine.Data);
        m.Hart.SetX(6, 5);
        m.Hart.SetX(7, TestMachine.Data + 8);
        m.Load(TestMachine.Data, 10, 0, unchecked((uint)-3));
        var s = m.RunToTrap(6);
        Assert.Equal(10UL, m.X(10));
        Assert.Equal(15UL, m.ReadU64(TestMachine.Data));
        Assert.Equal(ulong.MaxValue - 2, m.X(11));
        Assert.Equal(5U, m.ReadU32(TestMachine.Data + 8));
        Assert.Equal(TestMachine.Data + 10, s.Stval);
    }
}
