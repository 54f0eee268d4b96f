using System.Diagnostics;

namespace Disagg.Kernel.Cpu.Fuzz;

/// <summary>
/// Hostile-guest fuzzer: random (mostly well-formed) instruction streams over random data and random
/// page tables, random privilege, CSRs, interrupts, host invalidations and save/restore round trips.
/// The engine must never throw, hang or write outside the frames the host gave it; every outcome is
/// a guest-visible trap or normal execution. Deterministic for a seed (apart from wall-clock time).
/// </summary>
public static class HartFuzzer
{
    private const ulong RamBase = 0x8000_0000;
    private const ulong RamFrames = 32;

    private static readonly uint[] Opcodes = [0x37, 0x17, 0x6F, 0x67, 0x63, 0x03, 0x23, 0x13, 0x1B, 0x33, 0x3B, 0x0F, 0x73, 0x2F, 0x07, 0x27, 0x43, 0x47, 0x4B, 0x4F, 0x53];

    /// <summary>Runs programs until <paramref name="duration"/> has passed or <paramref name="maxPrograms"/> ran.</summary>
    public static FuzzReport Run(int seed, TimeSpan duration, long maxPrograms = long.MaxValue, long instructionsPerProgram = 20_000, HartEngine engine = HartEngine.Interpret)
    {
        var random = new Random(seed);
        var clock = Stopwatch.StartNew();
        long programs = 0, instructions = 0, traps = 0, calls = 0, idles = 0;
        while (programs < maxPrograms && clock.Elapsed < duration)
        {
            var programSeed = random.Next();
            var failure = RunProgram(programSeed, instructionsPerProgram, engine, ref instructions, ref traps, ref calls, ref idles);
            programs++;
            if (failure is not null)
            {
                return new FuzzReport(programs, instructions, traps, calls, idles, $"program seed {programSeed}: {failure}");
            }
        }

        return new FuzzReport(programs, instructions, traps, calls, idles, null);
    }

    /// <summary>One program; returns null when it behaved, else what went wrong.</summary>
    public static string? RunProgram(int seed, long budget, HartEngine engine, ref long instructions, ref long traps, ref long calls, ref long idles)
    {
        var r = new Random(seed);
        var isa = r.Next(3) == 0 ? IsaWidth.Rv32 : IsaWidth.Rv64;
        using var ram = new GuardedRam(RamBase, RamFrames);
        FillRam(r, ram.Bytes, isa);
        var hart = new Hart(isa, ram) { Engine = engine, TranslateAfter = engine == HartEngine.Translate ? 1 : 0 };
        var state = RandomState(r, isa);
        if (r.Next(2) == 0)
        {
            // Half the programs get a handler that steps over the faulting instruction and returns,
            // so execution goes deep into the random stream instead of looping on one trap.
            var handler = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(ram.Bytes);
            handler[0] = 0x141_02F73;  // csrr  t5, sepc
            handler[1] = 0x004F0F13;   // addi  t5, t5, 4
            handler[2] = 0x141F1073;   // csrw  sepc, t5
            handler[3] = 0x10200073;   // sret
            state = state with { Stvec = RamBase };
        }

        hart.Restore(state);
        try
        {
            long done = 0;
            while (done < budget)
            {
                var slice = r.Next(1, 5000);
                var before = hart.InstructionsRetired;
                var reason = hart.Run(slice);
                var retired = hart.InstructionsRetired - before;
                if (retired > (ulong)slice + 4096)
                {
                    return $"slice of {slice} retired {retired}";
                }

                done += slice;
                switch (reason)
                {
                    case ExitReason.SupervisorCall:
                        calls++;
                        hart.CompleteSbiCall(-2, 0);
                        break;
                    case ExitReason.Idle:
                        idles++;
                        hart.RaiseInterrupt(Interrupts.SupervisorTimer);
                        break;
                    default:
                        break;
                }

                Perturb(r, hart, ram);
                if (isa == IsaWidth.Rv32 && hart.Pc > uint.MaxValue)
                {
                    return $"RV32 pc 0x{hart.Pc:x} beyond 32 bits";
                }
            }

            instructions += (long)hart.InstructionsRetired;
            traps += hart.Statistics.Traps;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return "engine threw " + e;
        }

        return ram.GuardsIntact ? null : "a write landed outside guest RAM";
    }

    private static void Perturb(Random r, Hart hart, GuardedRam ram)
    {
        switch (r.Next(16))
        {
            case 0:
                hart.RaiseInterrupt((Interrupts)(1 << (1 + (4 * r.Next(3)))));
                break;
            case 1:
                hart.ClearInterrupt(Interrupts.SupervisorExternal | Interrupts.SupervisorTimer);
                break;
            case 2:
                ram.InvalidateTranslations();
                break;
            case 3:
                var saved = hart.Save();
                hart.Restore(saved);
                break;
            case 4:
                hart.SetTimer(hart.Time + (ulong)r.Next(100));
                break;
            case 5:
                hart.Kick();
                break;
            default:
                break;
        }
    }

    private static HartState RandomState(Random r, IsaWidth isa)
    {
        var x = new ulong[32];
        var f = new ulong[32];
        for (var i = 1; i < 32; i++)
        {
            x[i] = r.Next(3) switch
            {
                0 => RamBase + (ulong)r.Next((int)(RamFrames * 4096)),
                1 => (ulong)r.NextInt64() ^ ((ulong)r.Next() << 40),
                _ => (ulong)r.Next(-64, 64),
            };
            f[i] = r.Next(2) == 0 ? 0xFFFF_FFFF_0000_0000 | (uint)r.Next() : (ulong)r.NextInt64();
        }

        var rootPage = RamBase + ((ulong)r.Next((int)RamFrames) << 12);
        var satp = r.Next(2) == 0 ? 0UL
            : isa == IsaWidth.Rv64 ? (8UL << 60) | (rootPage >> 12) : (1UL << 31) | (rootPage >> 12);
        return new HartState
        {
            Isa = isa,
            X = x,
            F = f,
            Pc = RamBase + ((ulong)r.Next((int)(RamFrames * 4096)) & ~1UL),
            Privilege = r.Next(3) == 0 ? Privilege.User : Privilege.Supervisor,
            Sstatus = (ulong)r.NextInt64(),
            Sie = (ulong)r.Next(),
            Stvec = RamBase + ((ulong)r.Next((int)(RamFrames * 4096)) & ~3UL) + (ulong)r.Next(2),
            Satp = satp,
            Fcsr = (uint)r.Next(256),
            TimerDeadline = r.Next(2) == 0 ? ulong.MaxValue : (ulong)r.Next(1000),
        };
    }

    /// <summary>Mostly plausible instructions and compressed parcels, some raw noise, and page-table-like words.</summary>
    private static void FillRam(Random r, Span<byte> ram, IsaWidth isa)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(ram);
        for (var i = 0; i < words.Length; i++)
        {
            var w = (uint)r.NextInt64();
            var kind = r.Next(8);
            words[i] = kind switch
            {
                < 4 => (w & ~0x7FU) | Opcodes[r.Next(Opcodes.Length)],
                4 => w & ~3U | (uint)r.Next(3),
                5 => Pte(r),
                6 => Special(r, w),
                _ => w,
            };

            // Sv39 entries are 64-bit: a clean upper half makes the walker follow them instead of faulting.
            if (kind == 5 && isa == IsaWidth.Rv64 && (i & 1) == 0 && i + 1 < words.Length)
            {
                words[++i] = 0;
            }
        }
    }

    private static readonly uint[] Specials = [0x00000073, 0x10500073, 0x10200073, 0x12000073, 0x0000100F, 0x00100073];
    private static readonly uint[] Csrs = [0x100, 0x104, 0x105, 0x106, 0x10A, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0x001, 0x002, 0x003, 0xC00, 0xC01, 0xC02, 0xC81, 0x300];

    /// <summary>System instructions and accesses to real CSRs, which random bits almost never hit.</summary>
    private static uint Special(Random r, uint w)
    {
        if (r.Next(3) == 0)
        {
            return Specials[r.Next(Specials.Length)];
        }

        var f3 = (uint)r.Next(1, 8);
        return (Csrs[r.Next(Csrs.Length)] << 20) | (w & 0x000F_8F80) | (f3 << 12) | 0x73;
    }

    private static uint Pte(Random r)
    {
        var ppn = (RamBase >> 12) + (ulong)r.Next((int)RamFrames);
        return (uint)(ppn << 10) | (uint)r.Next(256) | 1;
    }
}
