using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// Runs one random program on two harts with identical RAM, one interpreting and one translating
/// (every block translated at its first execution), one block at a time (<c>Run(1)</c>), and compares
/// the whole architectural state and RAM whenever both have retired the same number of instructions and
/// taken the same number of traps (a trapping instruction retires nothing, so the instruction count alone
/// cannot tell "about to fault" from "in the handler").
/// Translated blocks are superblocks (they go on past a branch not taken), so the interpreter may need
/// several steps to reach the translator's next boundary; whichever is behind steps, and the two meet at
/// every translated block's end (each is an interpreter boundary: a taken branch, a jump, an exit).
/// Programs mix the translated integer subset with what it must hand to the interpreter: loads and
/// stores near page ends (misaligned, page-crossing), to unmapped addresses (faults) and into the code
/// itself (self-modifying code), compressed parcels, CSR reads of instret, FP, division and ecalls.
/// </summary>
internal static class EngineDifferential
{
    public const ulong Base = 0x8000_0000;
    private const int Pages = 16;
    private const int CodePages = 4;
    private const ulong Handler = Base + (CodePages * 4096);
    private static readonly ulong[] NoRegisters = [];

    public sealed record Outcome(long Comparisons, long Instructions, long Translated, string? Failure);

    /// <summary>
    /// The same programs with large slices, where translations chain into each other: the two harts are
    /// compared at every ECALL from S-mode (an exit both must reach with the same instruction count).
    /// </summary>
    public static Outcome RunToCalls(int seed, IsaWidth isa, int calls, ulong maxInstructions)
    {
        var r = new Random(seed);
        using var ramA = new ContiguousRam(Base, Pages * 4096);
        using var ramB = new ContiguousRam(Base, Pages * 4096);
        var (a, b) = Pair(r, isa, ramA, ramB);
        long comparisons = 0;
        for (var call = 0; call < calls; call++)
        {
            if (!RunUntilCall(r, a, maxInstructions))
            {
                break;
            }

            if (!RunUntilCall(r, b, a.InstructionsRetired) || b.InstructionsRetired != a.InstructionsRetired)
            {
                return new(comparisons, (long)a.InstructionsRetired, b.Statistics.BlocksTranslated,
                    $"seed {seed} {isa}: interp reached an ecall at {a.InstructionsRetired} instructions (pc 0x{a.Pc:x}), translate did not (at {b.InstructionsRetired}, pc 0x{b.Pc:x})");
            }

            comparisons++;
            var difference = Compare(a, b, ramA, ramB);
            if (difference is not null)
            {
                return new(comparisons, (long)a.InstructionsRetired, b.Statistics.BlocksTranslated, $"seed {seed} {isa} at the ecall after {a.InstructionsRetired} instructions: {difference}");
            }

            a.CompleteSbiCall(-2, call);
            b.CompleteSbiCall(-2, call);
        }

        return new(comparisons, (long)a.InstructionsRetired, b.Statistics.BlocksTranslated, null);
    }

    public static Outcome Run(int seed, IsaWidth isa, int steps)
    {
        var r = new Random(seed);
        using var ramA = new ContiguousRam(Base, Pages * 4096);
        using var ramB = new ContiguousRam(Base, Pages * 4096);
        var (a, b) = Pair(r, isa, ramA, ramB);
        long comparisons = 0;
        for (var step = 0; step < steps; step++)
        {
            var ia = Progress(a);
            var ib = Progress(b);
            if (ia == ib)
            {
                comparisons++;
                var difference = Compare(a, b, ramA, ramB);
                if (difference is not null)
                {
                    return new(comparisons, (long)a.InstructionsRetired, b.Statistics.BlocksTranslated, $"seed {seed} {isa} after {ia} (instructions, traps): {difference}");
                }
            }

            if (ia.CompareTo(ib) <= 0)
            {
                Step(a);
            }

            if (ib.CompareTo(ia) <= 0)
            {
                Step(b);
            }
        }

        return new(comparisons, (long)a.InstructionsRetired, b.Statistics.BlocksTranslated, null);
    }

    private static (Hart Interpreting, Hart Translating) Pair(Random r, IsaWidth isa, ContiguousRam ramA, ContiguousRam ramB)
    {
        Fill(r, ramA.Span(Base, Pages * 4096), isa);
        ramA.Span(Base, Pages * 4096).CopyTo(ramB.Span(Base, Pages * 4096));
        var a = new Hart(isa, ramA);
        var b = new Hart(isa, ramB) { Engine = HartEngine.Translate, TranslateAfter = r.Next(3) == 0 ? 1 : 0 };
        var state = Start(r, isa, a.Save());
        a.Restore(state);
        b.Restore(state);
        return (a, b);
    }

    /// <summary>Runs random slices until an S-mode ecall (true) or past <paramref name="limit"/> instructions.</summary>
    private static bool RunUntilCall(Random r, Hart h, ulong limit)
    {
        while (h.InstructionsRetired <= limit)
        {
            if (h.Run(r.Next(1, 3000)) == ExitReason.SupervisorCall)
            {
                return true;
            }
        }

        return false;
    }

    private static (ulong Instructions, long Traps) Progress(Hart h) => (h.InstructionsRetired, h.Statistics.Traps);

    private static void Step(Hart h)
    {
        if (h.Run(1) == ExitReason.SupervisorCall)
        {
            h.CompleteSbiCall(-2, (long)h.InstructionsRetired);
        }
    }

    private static string? Compare(Hart a, Hart b, ContiguousRam ramA, ContiguousRam ramB)
    {
        var sa = a.Save();
        var sb = b.Save();
        for (var i = 0; i < 32; i++)
        {
            if (sa.X[i] != sb.X[i])
            {
                return $"x{i} interp 0x{sa.X[i]:x} translate 0x{sb.X[i]:x} (pc 0x{sa.Pc:x} / 0x{sb.Pc:x})";
            }

            if (sa.F[i] != sb.F[i])
            {
                return $"f{i} interp 0x{sa.F[i]:x} translate 0x{sb.F[i]:x}";
            }
        }

        var na = sa with { X = NoRegisters, F = NoRegisters, Time = 0 };
        var nb = sb with { X = NoRegisters, F = NoRegisters, Time = 0 };
        if (na != nb)
        {
            return $"state interp {na} translate {nb}";
        }

        var ma = ramA.Span(Base, Pages * 4096);
        var mb = ramB.Span(Base, Pages * 4096);
        var at = ma.CommonPrefixLength(mb);
        return at == ma.Length ? null : $"RAM differs at 0x{Base + (ulong)at:x}";
    }

    private static HartState Start(Random r, IsaWidth isa, HartState initial)
    {
        var x = new ulong[32];
        for (var i = 1; i < 32; i++)
        {
            x[i] = r.Next(4) switch
            {
                // Pointers: near a page end in the data pages, into the code, unmapped, or anywhere in RAM.
                0 => Base + ((ulong)r.Next(CodePages + 1, Pages) * 4096) - (ulong)r.Next(1, 24),
                1 => r.Next(4) == 0 ? Base + (ulong)r.Next(CodePages * 4096) : Base + (ulong)r.Next(Pages * 4096),
                2 => r.Next(2) == 0 ? (ulong)r.Next(0x1000) : (ulong)r.NextInt64(),
                _ => (ulong)r.Next(-64, 64),
            };
            if (isa == IsaWidth.Rv32)
            {
                x[i] = (ulong)(long)(int)x[i];
            }
        }

        return initial with
        {
            X = x,
            Pc = Base + ((ulong)r.Next(CodePages * 2048) & ~1UL),
            Privilege = r.Next(4) == 0 ? Privilege.User : Privilege.Supervisor,
            Stvec = Handler,
            Scounteren = 7,
            TimerDeadline = ulong.MaxValue,
        };
    }

    /// <summary>Code pages of plausible instructions, a handler that steps over a trapping instruction, data pages.</summary>
    private static void Fill(Random r, Span<byte> ram, IsaWidth isa)
    {
        var words = MemoryMarshal.Cast<byte, uint>(ram);
        for (var i = 0; i < CodePages * 1024; i++)
        {
            words[i] = Instruction(r, isa);
        }

        var h = CodePages * 1024;
        words[h] = 0x14102F73;      // csrr  t5, sepc
        words[h + 1] = 0x004F0F13;  // addi  t5, t5, 4
        words[h + 2] = 0x141F1073;  // csrw  sepc, t5
        words[h + 3] = 0x10200073;  // sret
        for (var i = (CodePages + 1) * 1024; i < words.Length; i++)
        {
            words[i] = (uint)r.NextInt64();
        }
    }

    private static uint Instruction(Random r, IsaWidth isa)
    {
        var rd = (uint)r.Next(32);
        var rs1 = (uint)r.Next(32);
        var rs2 = (uint)r.Next(32);
        var f3 = (uint)r.Next(8);
        var imm = (uint)r.Next(-2048, 2048) & 0xFFF;
        var small = (uint)r.Next(-24, 24) & 0xFFF;
        var shift = (uint)r.Next(isa == IsaWidth.Rv64 ? 64 : 32) | (r.Next(2) == 0 ? 0U : 0x400);
        uint I(uint op, uint funct3, uint immediate) => (immediate << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | op;
        uint R(uint op, uint funct7, uint funct3) => (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | op;
        uint S(uint funct3, uint immediate) => ((immediate >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((immediate & 31) << 7) | 0x23;
        uint B(uint funct3)
        {
            // Mostly short forward branches (so programs advance), some backward ones (loops).
            var off = (uint)(r.Next(6) == 0 ? r.Next(-40, 0) : r.Next(1, 48)) * 2 & 0x1FFF;
            return ((off >> 12) << 31) | (((off >> 5) & 0x3F) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (((off >> 1) & 0xF) << 8) | (((off >> 11) & 1) << 7) | 0x63;
        }

        uint J()
        {
            var off = (uint)r.Next(-32, 64) * 2 & 0x1FFFFF;
            return ((off >> 20) << 31) | (((off >> 1) & 0x3FF) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xFF) << 12) | (rd << 7) | 0x6F;
        }

        return r.Next(40) switch
        {
            < 6 => I(0x13, f3, f3 is 1 or 5 ? shift : imm),
            < 9 => R(0x33, r.Next(3) switch { 0 => 0, 1 => 0x20, _ => 1 }, f3),
            < 11 => I(0x1B, f3 & 5, (f3 & 1) != 0 ? (shift & 0x41F) : imm),
            < 13 => R(0x3B, r.Next(3) switch { 0 => 0, 1 => 0x20, _ => 1 }, f3),
            < 17 => I(0x03, f3 % 7, r.Next(4) == 0 ? imm : small),
            < 20 => S(f3 & 3, r.Next(4) == 0 ? imm : small),
            < 23 => B(r.Next(6) switch { 0 => 0, 1 => 1, 2 => 4, 3 => 5, 4 => 6, _ => 7 }),
            < 24 => J(),
            < 25 => I(0x67, 0, small),
            < 26 => ((uint)r.Next() & 0xFFFFF000) | (rd << 7) | (r.Next(2) == 0 ? 0x37U : 0x17U),
            < 31 => Compressed(r) | (Compressed(r) << 16),
            < 32 => I(0x73, 2, 0xC02),                       // rdinstret: must see exactly the retired count
            < 33 => I(0x73, (uint)r.Next(1, 4), 0x140),      // sscratch
            < 34 => R(0x53, r.Next(2) == 0 ? 0x01U : 0x09U, 0),  // fadd.d / fmul.d
            < 35 => 0x00000073,                             // ecall
            < 36 => 0x0000100F,                             // fence.i
            _ => I(0x13, 0, imm),
        };
    }

    /// <summary>A random compressed parcel (quadrants 0-2); some decode as illegal, which is tested too.</summary>
    private static uint Compressed(Random r) => ((uint)r.Next(0x10000) & ~3U) | (uint)r.Next(3);
}
