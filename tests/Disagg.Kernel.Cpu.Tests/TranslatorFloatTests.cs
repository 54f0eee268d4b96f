using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// The translated D ops against the interpreter (whose FP is the reference: ISA suite, QEMU) on the values
/// where hosts differ: NaNs (x86 propagates payloads, RISC-V returns the canonical NaN; inf * 0 + qNaN is
/// invalid only on RISC-V), signed zeros, infinities, subnormals, overflow and inexact results. The whole
/// register state and fcsr's flags must match, and the ops must have run translated.
/// </summary>
public class TranslatorFloatTests
{
    private static readonly double[] Values =
    [
        1.5, -2.25, 0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN,
        BitConverter.UInt64BitsToDouble(0x7FF0_0000_0000_0001), // signaling NaN
        1e308, 2.2250738585072014e-308, double.Epsilon, 0.1, 3.0,
    ];

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void DoubleOpsGiveTheInterpretersResultsAndFlags(IsaWidth isa)
    {
        var code = Program(isa);
        for (var i = 0; i < Values.Length; i++)
        {
            for (var j = 0; j < Values.Length; j++)
            {
                var a = BitConverter.DoubleToUInt64Bits(Values[i]);
                var b = BitConverter.DoubleToUInt64Bits(Values[j]);
                var c = BitConverter.DoubleToUInt64Bits(Values[(i + j) % Values.Length]);
                using var interp = new TestMachine(isa, code);
                using var translated = new TestMachine(isa, HartEngine.Translate, code);
                foreach (var m in new[] { interp, translated })
                {
                    m.Hart.SetF(1, a);
                    m.Hart.SetF(2, b);
                    m.Hart.SetF(3, c);
                    m.Hart.SetX(5, isa == IsaWidth.Rv64 ? a : (uint)(a >> 20));
                    m.Hart.SetX(6, TestMachine.Data);
                }

                Assert.Equal(ExitReason.SupervisorCall, interp.Run());
                Assert.Equal(ExitReason.SupervisorCall, translated.Run());
                var si = interp.Hart.Save();
                var st = translated.Hart.Save();
                var what = $"{isa} a={Values[i]} b={Values[j]} c={Values[(i + j) % Values.Length]}";
                Assert.True(si.Fcsr == st.Fcsr, $"{what}: fcsr interp 0x{si.Fcsr:x} translate 0x{st.Fcsr:x}");
                for (var r = 0; r < 32; r++)
                {
                    Assert.True(si.F[r] == st.F[r], $"{what}: f{r} interp 0x{si.F[r]:x} translate 0x{st.F[r]:x}");
                    Assert.True(si.X[r] == st.X[r], $"{what}: x{r} interp 0x{si.X[r]:x} translate 0x{st.X[r]:x}");
                }

                Assert.Equal(interp.ReadU64(TestMachine.Data), translated.ReadU64(TestMachine.Data));
                Assert.Equal(interp.Hart.InstructionsRetired, translated.Hart.InstructionsRetired);
                Assert.True(translated.Hart.Statistics.BlocksTranslated >= 1);
            }
        }
    }

    [Fact]
    public void TheTranslatorsFma3ProbeAgreesWithTheJit()
    {
        // The probe (CPUID and XGETBV) is what the NativeAOT kernel decides by; the JIT asks the same CPU and OS.
        Assert.Equal(System.Runtime.Intrinsics.X86.Fma.IsSupported, Disagg.Kernel.Cpu.Translate.HostFeatures.Fma3);
    }

    [Fact]
    public void FpOpsAreLeftToTheInterpreterWhenFsIsNotDirtyOrFrmIsNotNearestEven()
    {
        // fadd.d f4, f1, f2 with FS = Clean: it must still run (and dirty FS), as the interpreter does.
        uint[] code = [Fp(0x01, 4, 1, 2, 7), Csrrsi(7, 0x002, 0), Fp(0x01, 5, 1, 2, 7), Ecall];
        foreach (var (fs, frm) in new[] { (2UL, 0U), (3UL, 2U) })
        {
            using var interp = new TestMachine(IsaWidth.Rv64, code);
            using var translated = new TestMachine(IsaWidth.Rv64, HartEngine.Translate, code);
            foreach (var m in new[] { interp, translated })
            {
                var s = m.Hart.Save();
                m.Hart.Restore(s with { Sstatus = (s.Sstatus & ~(3UL << 13)) | (fs << 13), Fcsr = frm << 5 });
                m.Hart.SetF(1, BitConverter.DoubleToUInt64Bits(1.0));
                m.Hart.SetF(2, BitConverter.DoubleToUInt64Bits(1e-20));
            }

            Assert.Equal(ExitReason.SupervisorCall, interp.Run());
            Assert.Equal(ExitReason.SupervisorCall, translated.Run());
            var si = interp.Hart.Save();
            Assert.Equal(si, translated.Hart.Save() with { Time = si.Time, X = si.X, F = si.F });
            Assert.Equal(interp.X(7), translated.X(7));
            Assert.Equal(interp.Hart.GetF(4), translated.Hart.GetF(4));
            Assert.Equal(interp.Hart.GetF(5), translated.Hart.GetF(5));
        }
    }

    private static uint R4(uint op, int rd, int rs1, int rs2, int rs3, uint rm) =>
        ((uint)rs3 << 27) | (1U << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | (rm << 12) | ((uint)rd << 7) | op;

    /// <summary>Every translated D op once on f1, f2, f3 (x5 an integer, x6 a data pointer), static and dynamic RNE.</summary>
    private static uint[] Program(IsaWidth isa)
    {
        List<uint> code =
        [
            Fp(0x01, 4, 1, 2, 0), Fp(0x05, 7, 1, 2, 7), Fp(0x09, 8, 1, 2, 0), Fp(0x0D, 9, 1, 2, 7), Fp(0x0D, 10, 2, 1, 0),
            R4(0x43, 11, 1, 2, 3, 0), R4(0x47, 12, 1, 2, 3, 7), R4(0x4B, 13, 1, 2, 3, 0), R4(0x4F, 14, 1, 2, 3, 0),
            Fp(0x11, 15, 1, 2, 0), Fp(0x11, 16, 1, 2, 1), Fp(0x11, 17, 1, 2, 2),
            Fp(0x69, 18, 5, 0, 0),
            S(0x27, 3, 6, 4, 0), I(0x07, 19, 3, 6, 0), S(0x27, 2, 6, 8, 8), I(0x07, 20, 2, 6, 8),
            FmvXD(10, 9), FmvDX(21, 5),
        ];
        if (isa == IsaWidth.Rv64)
        {
            code.Add(Fp(0x69, 22, 5, 2, 7)); // fcvt.d.l
        }
        else
        {
            code.RemoveAt(code.Count - 1); // fmv.d.x and fmv.x.d are RV64-only
            code.RemoveAt(code.Count - 1);
        }

        code.Add(Ecall);
        return [.. code];
    }
}
