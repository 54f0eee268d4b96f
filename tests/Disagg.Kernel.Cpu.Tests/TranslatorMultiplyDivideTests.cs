using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// The translated M extension against the interpreter on the values where x86 and RISC-V part ways:
/// a zero divisor, MIN / -1 (x86 faults on both; RISC-V defines the results), the 32-bit W forms'
/// extension rules and the high-half multiplies' signedness. Operands come from guest registers held in
/// host registers and from ones left in the register file, and results go to both kinds.
/// </summary>
public class TranslatorMultiplyDivideTests
{
    private static readonly ulong[] Values =
    [
        0, 1, ulong.MaxValue, 7, unchecked((ulong)-7), 0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF,
        0xFFFF_FFFF_8000_0000, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0003, 0x1234_5678_9ABC_DEF0,
    ];

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void EveryMOpGivesTheInterpretersResultOnEdgeValues(IsaWidth isa)
    {
        foreach (var a in Values)
        {
            foreach (var b in Values)
            {
                foreach (var (rs1, rs2) in new[] { (5, 6), (10, 11), (12, 7) })
                {
                    var code = Program(isa, rs1, rs2);
                    using var interp = new TestMachine(isa, code);
                    using var translated = new TestMachine(isa, HartEngine.Translate, code);
                    foreach (var m in new[] { interp, translated })
                    {
                        m.Hart.SetX(rs1, a);
                        m.Hart.SetX(rs2, b);
                    }

                    Assert.Equal(ExitReason.SupervisorCall, interp.Run());
                    Assert.Equal(ExitReason.SupervisorCall, translated.Run());
                    Assert.True(translated.Hart.Statistics.BlocksTranslated >= 1);
                    for (var r = 1; r < 32; r++)
                    {
                        Assert.True(interp.X(r) == translated.X(r), $"{isa} a=0x{a:x} b=0x{b:x} rs1=x{rs1} rs2=x{rs2}: x{r} interp 0x{interp.X(r):x} translate 0x{translated.X(r):x}");
                    }
                }
            }
        }
    }

    /// <summary>Every M op of the width once, results into x13-x31 except the operands (mapped and unmapped registers).</summary>
    private static uint[] Program(IsaWidth isa, int rs1, int rs2)
    {
        var code = new List<uint>();
        var rd = 13;
        int Next()
        {
            while (rd == rs1 || rd == rs2)
            {
                rd++;
            }

            return rd++;
        }

        for (uint f3 = 0; f3 < 8; f3++)
        {
            code.Add(R(0x33, Next(), f3, rs1, rs2, 1));
        }

        if (isa == IsaWidth.Rv64)
        {
            foreach (var f3 in new uint[] { 0, 4, 5, 6, 7 })
            {
                code.Add(R(0x3B, Next(), f3, rs1, rs2, 1));
            }
        }

        // rd = rs1 in place (the host-register path), then the same op into x0 (discarded).
        code.Add(R(0x33, rs1, 4, rs1, rs2, 1));
        code.Add(R(0x33, 0, 6, rs1, rs2, 1));
        code.Add(Ecall);
        return [.. code];
    }
}
