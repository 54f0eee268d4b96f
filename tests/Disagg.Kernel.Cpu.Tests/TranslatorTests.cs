using System.Globalization;
using Disagg.Kernel.Cpu.Translate;
using static Disagg.Kernel.Cpu.Tests.Asm;

namespace Disagg.Kernel.Cpu.Tests;

public class TranslatorTests
{
    private const ulong Base = TestMachine.Base;

    private static TestMachine Translating(IsaWidth isa, params uint[] code) => new(isa, HartEngine.Translate, code);

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void AHotLoopRunsTranslatedWithTheInterpretersResultAndCount(IsaWidth isa)
    {
        // x5 = 1000; do { x6 += x5 * 3; mem[x7] = x6; x8 = mem[x7]; } while (--x5 != 0)
        uint[] code =
        [
            Addi(5, 0, 1000), Nop, Addi(6, 0, 0),
            Addi(9, 5, 0), Add(9, 9, 5), Add(9, 9, 5), Add(6, 6, 9), Sw(6, 7, 8), Lw(8, 7, 8), Addi(5, 5, -1), Bne(5, 0, -28),
            Ecall,
        ];
        using var interp = new TestMachine(isa, code);
        using var translated = Translating(isa, code);
        interp.Hart.SetX(7, TestMachine.Data);
        translated.Hart.SetX(7, TestMachine.Data);
        Assert.Equal(ExitReason.SupervisorCall, interp.Run());
        Assert.Equal(ExitReason.SupervisorCall, translated.Run());
        Assert.Equal(3UL * 500500, translated.X(6));
        Assert.Equal(translated.X(6), translated.X(8));
        Assert.Equal(interp.Hart.InstructionsRetired, translated.Hart.InstructionsRetired);
        Assert.Equal(interp.Hart.Pc, translated.Hart.Pc);
        Assert.True(translated.Hart.Statistics.BlocksTranslated >= 2, translated.Hart.Statistics.ToString());
        Assert.Equal(0, interp.Hart.Statistics.BlocksTranslated);
    }

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void ASuperblockLoopWithASideExitOnRegistersOutsideAnyFixedSetMatchesTheInterpreter(IsaWidth isa)
    {
        // for (t0 = 300; t0 != 0; t0--) { t1 += t0; if (t0 & 1) { t3 += t4; t4 += 3; } mem[x7] = t1; s2 = mem[x7]; s3 += s2; }
        // The loop is one superblock looping onto itself; the even case leaves it through the taken branch
        // into a second block that jumps back.
        uint[] code =
        [
            Addi(5, 0, 300), Addi(6, 0, 0), Addi(28, 0, 0), Addi(29, 0, 7),
            Add(6, 6, 5), I(0x13, 31, 7, 5, 1), Beq(31, 0, 12), Add(28, 28, 29), Addi(29, 29, 3),
            Sw(6, 7, 0), Lw(18, 7, 0), Add(19, 19, 18), Addi(5, 5, -1), Bne(5, 0, -36),
            Ecall,
        ];
        using var interp = new TestMachine(isa, code);
        using var translated = Translating(isa, code);
        interp.Hart.SetX(7, TestMachine.Data);
        translated.Hart.SetX(7, TestMachine.Data);
        Assert.Equal(ExitReason.SupervisorCall, interp.Run());
        Assert.Equal(ExitReason.SupervisorCall, translated.Run());
        for (var r = 1; r < 32; r++)
        {
            Assert.Equal(interp.X(r), translated.X(r));
        }

        Assert.Equal(300UL * 301 / 2, translated.X(6));
        Assert.Equal(150UL * 7 + (3UL * 150 * 149 / 2), translated.X(28));
        Assert.Equal(interp.Hart.InstructionsRetired, translated.Hart.InstructionsRetired);
        Assert.Equal(interp.Hart.Pc, translated.Hart.Pc);
        Assert.True(translated.Hart.Statistics.BlocksTranslated >= 2, translated.Hart.Statistics.ToString());
    }

    [Fact]
    public void AFaultInsideABlockLeavesExactlyTheStateBeforeTheFaultingInstruction()
    {
        // The load faults (no RAM at 0x40); the two addis before it in the same block must have retired, the add after it not.
        uint[] code = [Addi(5, 5, 1), Addi(6, 0, 7), Ld(7, 8, 0x40), Add(9, 6, 6), Ecall];
        using var m = Translating(IsaWidth.Rv64, code);
        using var reference = new TestMachine(IsaWidth.Rv64, code);
        var s = m.RunToTrap(5);
        reference.RunToTrap(5);
        Assert.Equal(Base + 8, s.Sepc);
        Assert.Equal(0x40UL, s.Stval);
        Assert.Equal(1UL, m.X(5));
        Assert.Equal(7UL, m.X(6));
        Assert.Equal(0UL, m.X(9));

        Assert.Equal(reference.Hart.InstructionsRetired, m.Hart.InstructionsRetired);
        Assert.True(m.Hart.Statistics.BlocksTranslated >= 1);
    }

    [Fact]
    public void AStoreToTranslatedCodeDropsItsTranslation()
    {
        // f: addi a0, zero, 1; ret. Called three times (translated), then patched to addi a0, zero, 2 and called again.
        const int F = 0x100;
        uint[] code =
        [
            Jal(1, F), Jal(1, F - 4), Jal(1, F - 8),
            Nop, Nop, Nop, Sw(13, 11, F), Jal(1, F - 28), Ecall,
        ];
        using var m = Translating(IsaWidth.Rv64, code);
        m.Load(Base + F, Addi(10, 0, 1), Jalr(0, 1, 0));
        m.Hart.SetX(13, (ulong)Addi(10, 0, 2));
        m.Hart.SetX(11, Base);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(2UL, m.X(10));
    }

    [Fact]
    public void StoresThatMissTheTlbAndMisalignedAccessesRunInTheInterpreterWithTheSameResult()
    {
        // A misaligned doubleword store and load across a page boundary inside a translated loop.
        var across = TestMachine.Data + 0xFFD;
        uint[] code = [Addi(5, 0, 3), Sd(5, 7, 0), Ld(6, 7, 0), Addi(5, 5, -1), Bne(5, 0, -12), Ecall];
        using var m = Translating(IsaWidth.Rv64, code);
        m.Hart.SetX(7, across);
        Assert.Equal(ExitReason.SupervisorCall, m.Run());
        Assert.Equal(1UL, m.X(6));
        Assert.Equal(1UL, m.ReadU64(across - 3) >> 24);
    }

    [Fact]
    public void BadEngineSettingsAreRefused()
    {
        using var ram = new ContiguousRam(Base, 4096);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Hart(IsaWidth.Rv64, ram) { Engine = (HartEngine)7 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Hart(IsaWidth.Rv64, ram) { TranslateAfter = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Hart(IsaWidth.Rv64, ram) { TranslateAfter = 0xFFFF });
        Assert.Equal(HartEngine.Interpret, new Hart(IsaWidth.Rv64, ram).Engine);
        Assert.Equal(HartEngine.Translate, new Hart(IsaWidth.Rv64, ram) { Engine = HartEngine.Translate }.Engine);
    }

    [Fact]
    public unsafe void ExecutableMemoryIsNeverWritableAndExecutableAndSaysWhenFull()
    {
        using var memory = new ExecutableMemory(8192);
        var code = memory.TryAppend([0xB8, 42, 0, 0, 0, 0xC3]); // mov eax, 42; ret
        Assert.True(code != null);
        Assert.Equal(42, ((delegate* unmanaged<int>)code)());
        Assert.Equal("r-xp", Permissions((nuint)code));
        Assert.True(memory.TryAppend(new byte[8180]) == null);
        Assert.True(memory.TryAppend([]) == null);
        memory.Reset();
        Assert.True(memory.TryAppend(new byte[8000]) != null);
    }

    [Fact]
    public void OpsOutsideTheSubsetAreNotTranslatedAndJumpsEndBlocks()
    {
        Assert.True(BlockTranslator.Translates(Decode.Op.Add));
        Assert.True(BlockTranslator.Translates(Decode.Op.Mulhsu));
        Assert.True(BlockTranslator.Translates(Decode.Op.Remuw));
        Assert.True(BlockTranslator.Translates(Decode.Op.AuipcAddi));
        Assert.False(BlockTranslator.Translates(Decode.Op.Fence));
        Assert.False(BlockTranslator.Translates(Decode.Op.LrW));
        Assert.False(BlockTranslator.Translates(Decode.Op.Csrrs));
        Assert.False(BlockTranslator.Translates(Decode.Op.BlockEnd));
        Assert.True(BlockTranslator.EndsBlock(Decode.Op.Jalr));
        Assert.False(BlockTranslator.EndsBlock(Decode.Op.Bgeu));
        Assert.True(BlockTranslator.IsBranch(Decode.Op.Bgeu));
        Assert.False(BlockTranslator.EndsBlock(Decode.Op.Sd));
    }

    private static string Permissions(nuint address)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var start = nuint.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var end = nuint.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (address >= start && address < end)
            {
                return line.Substring(space + 1, 4);
            }
        }

        return "unmapped";
    }
}
