using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class IntegerTests
{
    private static TestMachine Run(IsaWidth isa, Action<Hart>? setup, params uint[] code)
    {
        var m = new TestMachine(isa, [.. code, Ecall]);
        setup?.Invoke(m.Hart);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(TestMachine.Base + (ulong)(code.Length * 4), m.Hart.Pc);
        return m;
    }

    [Fact]
    public void AddiwSignExtendsAndX0StaysZero()
    {
        using var m = Run(IsaWidth.Rv64, h => h.SetX(5, 0x7FFF_FFFF), Addiw(6, 5, 1), Addi(0, 5, 1), Add(7, 0, 0));
        Assert.Equal(0xFFFF_FFFF_8000_0000, m.X(6));
        Assert.Equal(0UL, m.X(0));
        Assert.Equal(0UL, m.X(7));
    }

    [Fact]
    public void DivisionByZeroAndOverflowFollowTheIsaTable()
    {
        using var m = Run(
            IsaWidth.Rv64,
            h =>
            {
                h.SetX(5, 42);
                h.SetX(7, unchecked((ulong)long.MinValue));
                h.SetX(8, ulong.MaxValue);
            },
            Div(10, 5, 0), Divu(11, 5, 0), Rem(12, 5, 0), Div(13, 7, 8), Rem(14, 7, 8), Divw(15, 7, 8));
        Assert.Equal(ulong.MaxValue, m.X(10));
        Assert.Equal(ulong.MaxValue, m.X(11));
        Assert.Equal(42UL, m.X(12));
        Assert.Equal(unchecked((ulong)long.MinValue), m.X(13));
        Assert.Equal(0UL, m.X(14));
        Assert.Equal(0UL, m.X(15)); // low word of MinValue is 0: 0 / -1
    }

    [Fact]
    public void HighMultipliesAreSignedAndUnsigned()
    {
        using var m = Run(IsaWidth.Rv64, h => { h.SetX(5, ulong.MaxValue); h.SetX(6, 2); }, Mulh(10, 5, 6), Mulhu(11, 5, 6), Mul(12, 5, 6));
        Assert.Equal(ulong.MaxValue, m.X(10));
        Assert.Equal(1UL, m.X(11));
        Assert.Equal(ulong.MaxValue - 1, m.X(12));
    }

    [Fact]
    public void Rv32KeepsRegistersSignExtendedAndWrapsAt32Bits()
    {
        using var m = Run(
            IsaWidth.Rv32,
            h => { h.SetX(5, 0x7FFF_FFFF); h.SetX(6, 0x8000_0000); h.SetX(7, 4); },
            Addi(10, 5, 1), Srl(11, 6, 7), Mulh(12, 6, 6), Lui(13, unchecked((int)0xFFFFF000)));
        Assert.Equal(0xFFFF_FFFF_8000_0000, m.X(10));
        Assert.Equal(0x0800_0000UL, m.X(11)); // logical shift of the 32-bit value, not of the sign-extended one
        Assert.Equal(0x4000_0000UL, m.X(12));
        Assert.Equal(0xFFFF_FFFF_FFFF_F000, m.X(13));
    }

    [Fact]
    public void Rv32RejectsRv64OnlyEncodings()
    {
        using var m = new TestMachine(IsaWidth.Rv32, Ld(5, 0, 0));
        var s = m.RunToTrap(2);
        Assert.Equal((ulong)Ld(5, 0, 0), s.Stval);
        Assert.Equal(TestMachine.Base, s.Sepc);
    }

    [Fact]
    public void BranchesAndJumpsLinkAndLoop()
    {
        // x5 = 10; loop: x6 += x5; x5 -= 1; bne x5, x0, loop; jal x1, +8; (skipped addi); ecall
        using var m = Run(
            IsaWidth.Rv64,
            null,
            Addi(5, 0, 10), Add(6, 6, 5), Addi(5, 5, -1), Bne(5, 0, -8), Jal(1, 8), Addi(6, 0, 0));
        Assert.Equal(55UL, m.X(6));
        Assert.Equal(TestMachine.Base + 20, m.X(1));
    }

    [Fact]
    public void CompressedQuadrantOneDiffersBetweenWidths()
    {
        // Funct3 001 of quadrant 1: C.ADDIW a0, 1 (0x2505) on RV64, C.JAL +4 (0x2011) on RV32.
        using var rv64 = new TestMachine(IsaWidth.Rv64);
        rv64.Load16(TestMachine.Base, 0x2505, 0x0073, 0x0000); // c.addiw a0, 1 ; ecall (32-bit, split in parcels)
        rv64.Hart.SetX(10, 0x7FFF_FFFF);
        Assert.Equal(ExitReason.SupervisorCall, rv64.Run());
        Assert.Equal(0xFFFF_FFFF_8000_0000, rv64.X(10));

        using var rv32 = new TestMachine(IsaWidth.Rv32);
        rv32.Load16(TestMachine.Base, 0x2011, 0x0001, 0x0001, 0x0001, 0x0073, 0x0000); // c.jal +4 over a nop to a nop, then ecall
        Assert.Equal(ExitReason.SupervisorCall, rv32.Run());
        Assert.Equal(0xFFFF_FFFF_8000_0002, rv32.X(1)); // RV32 registers are kept sign-extended
        Assert.Equal(TestMachine.Base + 8, rv32.Hart.Pc);
    }

    [Fact]
    public void QuadrantZeroOneOneIsFlwOnRv32AndLdOnRv64()
    {
        // 0x6188: c.flw fa0, 0(a1) on RV32, c.ld a0, 0(a1) on RV64.
        using var rv64 = new TestMachine(IsaWidth.Rv64);
        rv64.Load16(TestMachine.Base, 0x6188, 0x0073, 0x0000);
        rv64.Load(TestMachine.Data, 0x4048_F5C3, 0x1122_3344);
        rv64.Hart.SetX(11, TestMachine.Data);
        Assert.Equal(ExitReason.SupervisorCall, rv64.Run());
        Assert.Equal(0x1122_3344_4048_F5C3UL, rv64.X(10));

        using var rv32 = new TestMachine(IsaWidth.Rv32);
        rv32.Load16(TestMachine.Base, 0x6188, 0x0073, 0x0000);
        rv32.Load(TestMachine.Data, 0x4048_F5C3);
        rv32.Hart.SetX(11, TestMachine.Data);
        Assert.Equal(ExitReason.SupervisorCall, rv32.Run());
        Assert.Equal(0xFFFF_FFFF_4048_F5C3UL, rv32.Hart.GetF(10));
        Assert.Equal(0UL, rv32.X(10));
    }

    [Fact]
    public void Rv32ShiftAmountBitFiveAndWordOpsAreIllegal()
    {
        using var shift = new TestMachine(IsaWidth.Rv32, Slli(5, 5, 32));
        shift.RunToTrap(2);
        using var word = new TestMachine(IsaWidth.Rv32, Addw(5, 5, 5));
        word.RunToTrap(2);
        using var counterHigh = new TestMachine(IsaWidth.Rv32, Csrr(5, 0xC82), Ecall);
        Assert.Equal(ExitReason.SupervisorCall, counterHigh.Run());
        using var noHighOnRv64 = new TestMachine(IsaWidth.Rv64, Csrr(5, 0xC82));
        noHighOnRv64.RunToTrap(2);
    }

    [Fact]
    public void FusedConstantPairsComputeCountAndInvalidateLikeTwoInstructions()
    {
        uint auipc = ((uint)1 << 12) | (11 << 7) | 0x17; // auipc a1, 1
        using var m = new TestMachine(IsaWidth.Rv64, Lui(10, 0x12345000), Addi(10, 10, 0x678), auipc, Addi(11, 11, -4), Ecall);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(0x1234_5678UL, m.X(10));
        Assert.Equal(TestMachine.Base + 8 + 0x1000 - 4, m.X(11));
        Assert.Equal(5UL, m.Hart.InstructionsRetired); // four fused into two dispatches, plus the ecall

        // Rewrite only the addi half of the first pair, as a device or loader would.
        Assert.True(m.Hart.TryWritePhysical(TestMachine.Base + 4, BitConverter.GetBytes(Addi(10, 10, 1))));
        m.Hart.Pc = TestMachine.Base;
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(0x1234_5001UL, m.X(10));
    }

    [Fact]
    public void InstructionsRetiredCountsEveryInstruction()
    {
        using var m = Run(IsaWidth.Rv64, null, Addi(5, 0, 100), Addi(5, 5, -1), Bne(5, 0, -4));
        Assert.Equal(1UL + 200 + 1, m.Hart.InstructionsRetired); // ecall retires when the host completes it; counted at exit
    }
}
