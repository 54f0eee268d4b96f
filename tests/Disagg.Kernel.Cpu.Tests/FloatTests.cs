using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class FloatTests
{
    private const uint Fflags = 0x001;
    private const uint Rne = 0, Rtz = 1, Rdn = 2, Rup = 3, Dyn = 7;

    private static (ulong Result, ulong Flags) Run(IsaWidth isa, ulong a, ulong b, uint op, Action<Hart>? setup = null)
    {
        using var m = new TestMachine(isa, FmvDX(1, 5), FmvDX(2, 6), op, FmvXD(10, 3), Csrr(11, Fflags), Ecall);
        if (isa == IsaWidth.Rv32)
        {
            // RV32 has no fmv.d.x: start with the registers already set.
            m.Load(TestMachine.Base, Nop, Nop, op, Nop, Csrr(11, Fflags), Ecall);
            m.Hart.SetF(1, a);
            m.Hart.SetF(2, b);
        }

        m.Hart.SetX(5, a);
        m.Hart.SetX(6, b);
        setup?.Invoke(m.Hart);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        return (isa == IsaWidth.Rv32 ? m.Hart.GetF(3) : m.X(10), m.X(11));
    }

    private static ulong D(double d) => BitConverter.DoubleToUInt64Bits(d);

    private static ulong S(float f) => 0xFFFF_FFFF_0000_0000 | BitConverter.SingleToUInt32Bits(f);

    [Theory]
    [InlineData(Rne, 1.0)]
    [InlineData(Rdn, 1.0)]
    [InlineData(Rtz, 1.0)]
    [InlineData(Rup, 1.0000000000000002)]
    public void AddRoundsInEveryModeAndFlagsInexact(uint rm, double expected)
    {
        var (result, flags) = Run(IsaWidth.Rv64, D(1.0), D(Math.ScaleB(1, -60)), Fp(0x01, 3, 1, 2, rm));
        Assert.Equal(D(expected), result);
        Assert.Equal(1UL, flags);
    }

    [Fact]
    public void DynamicRoundingUsesFrmAndAnInvalidFrmIsIllegal()
    {
        var (result, _) = Run(IsaWidth.Rv64, D(-1.0), D(-Math.ScaleB(1, -60)), Fp(0x01, 3, 1, 2, Dyn), h => Frm(h, Rdn));
        Assert.Equal(D(Math.BitDecrement(-1.0)), result);

        using var m = new TestMachine(IsaWidth.Rv64, Fp(0x01, 3, 1, 2, Dyn));
        Frm(m.Hart, 5);
        m.RunToTrap(2);
    }

    private static void Frm(Hart h, uint frm) => h.Restore(h.Save() with { Fcsr = frm << 5 });

    [Fact]
    public void DivisionByZeroGivesInfinityAndDz()
    {
        var (result, flags) = Run(IsaWidth.Rv64, D(1.0), D(0.0), Fp(0x0D, 3, 1, 2, Rne));
        Assert.Equal(D(double.PositiveInfinity), result);
        Assert.Equal(8UL, flags);
    }

    [Fact]
    public void SingleResultsAreNaNBoxedAndUnboxedInputsAreCanonicalNaN()
    {
        var (sum, _) = Run(IsaWidth.Rv64, S(1.5f), S(2.25f), Fp(0x00, 3, 1, 2, Rne));
        Assert.Equal(S(3.75f), sum);
        var (bad, flags) = Run(IsaWidth.Rv64, 0x3F80_0000, S(1f), Fp(0x00, 3, 1, 2, Rne));
        Assert.Equal(0xFFFF_FFFF_7FC0_0000, bad);
        Assert.Equal(0UL, flags); // a canonical (quiet) NaN input raises nothing
    }

    [Fact]
    public void ConvertingNaNToIntegerSaturatesWithInvalid()
    {
        using var m = new TestMachine(IsaWidth.Rv64, FmvWX(1, 5), Fp(0x60, 10, 1, 0, Rtz), Fp(0x60, 12, 1, 1, Rtz), Csrr(11, Fflags), Ecall);
        m.Hart.SetX(5, 0x7FC0_0000);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(0x7FFF_FFFFUL, m.X(10));
        Assert.Equal(ulong.MaxValue, m.X(12)); // fcvt.wu: 0xFFFFFFFF, sign-extended
        Assert.Equal(16UL, m.X(11));
    }

    [Theory]
    [InlineData(Rne, 16777216f)]
    [InlineData(Rup, 16777218f)]
    public void IntegerToSingleRoundsInTheRequestedMode(uint rm, float expected)
    {
        using var m = new TestMachine(IsaWidth.Rv32, Fp(0x68, 3, 5, 0, rm), Csrr(11, Fflags), Ecall);
        m.Hart.SetX(5, 16777217);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(S(expected), m.Hart.GetF(3));
        Assert.Equal(1UL, m.X(11));
    }

    [Fact]
    public void FpInstructionsAreIllegalWhileFsIsOffAndWritesMakeFsDirty()
    {
        using var m = new TestMachine(IsaWidth.Rv64, I(0x73, 0, 3, 5, 0x100), Fp(0x01, 3, 1, 2, Rne));
        m.Hart.SetX(5, 3UL << 13);
        m.RunToTrap(2);

        using var n = new TestMachine(IsaWidth.Rv64, I(0x73, 0, 3, 5, 0x100), Csrrs(0, 0x100, 6), Fp(0x01, 3, 1, 2, Rne), Csrr(10, 0x100), Ecall);
        n.Hart.SetX(5, 3UL << 13);
        n.Hart.SetX(6, 1UL << 13); // FS = Initial
        Assert.Equal(ExitReason.SupervisorCall, n.Run());
        Assert.Equal(3UL << 13, n.X(10) & (3UL << 13));
        Assert.Equal(1UL << 63, n.X(10) & (1UL << 63)); // SD
    }

    [Fact]
    public void MinMaxFollowTheSignedZeroAndNaNRules()
    {
        var (min, _) = Run(IsaWidth.Rv64, D(0.0), D(-0.0), Fp(0x15, 3, 1, 2, 0));
        Assert.Equal(D(-0.0), min);
        var (max, flags) = Run(IsaWidth.Rv64, 0x7FF0_0000_0000_0001, D(2.0), Fp(0x15, 3, 1, 2, 1));
        Assert.Equal(D(2.0), max);
        Assert.Equal(16UL, flags); // signaling NaN operand
    }
}
