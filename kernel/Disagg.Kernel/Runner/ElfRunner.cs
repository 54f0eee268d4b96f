using System.Diagnostics;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Loader;
using Disagg.Kernel.Platform;

namespace Disagg.Kernel.Runner;

/// <summary>
/// `run-elf`: one RV32 or RV64 hart on flat RAM at 0x8000_0000, an ELF loaded at its physical
/// addresses, the SBI firmware answering its ecalls, until the guest resets the system or the
/// instruction limit is reached. The stand-in for a domain until domains exist.
/// </summary>
internal static class ElfRunner
{
    private const long Slice = 4_000_000;

    public static int Run(RunElfOptions options, Stream stdout, TextWriter stderr)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(options.File);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"run-elf: cannot read {options.File}: {e.Message}");
            return ExitCodes.BadElf;
        }

        if (!ElfImage.TryParse(file, out var image, out var error))
        {
            stderr.WriteLine($"run-elf: {options.File}: {error}");
            return ExitCodes.BadElf;
        }

        var isa = options.Isa ?? (image!.Is64 ? IsaWidth.Rv64 : IsaWidth.Rv32);
        using var ram = new ContiguousRam(RunElfOptions.RamBase, options.MemoryBytes);
        if (!TryLoad(image!, file, ram, out error))
        {
            stderr.WriteLine($"run-elf: {options.File}: {error}");
            return ExitCodes.BadElf;
        }

        var hart = new Hart(isa, ram) { Pc = image!.Entry, Privilege = Privilege.Supervisor };
        hart.SetX(10, 0);
        hart.SetX(11, 0);
        var console = new SbiConsole(stdout, Console.OpenStandardInput);
        var sbi = new SbiFirmware(console);
        var clock = Stopwatch.StartNew();
        int code;
        try
        {
            code = Execute(hart, sbi, options.MaxInstructions, stderr);
        }
        finally
        {
            // Whatever happens, what the guest printed reaches stdout first.
            console.Flush();
        }

        clock.Stop();
        if (options.Stats)
        {
            var seconds = clock.Elapsed.TotalSeconds;
            var s = hart.Statistics;
            stderr.WriteLine(FormattableString.Invariant(
                $"stats: instructions {hart.InstructionsRetired} wall {seconds:F3} s mips {hart.InstructionsRetired / seconds / 1e6:F1}"));
            stderr.WriteLine(FormattableString.Invariant(
                $"stats: tlb-fills {s.TlbFills} page-walks {s.PageWalks} tlb-flushes {s.TlbFlushes} decoded-pages {s.PagesDecoded} decoded-instructions {s.InstructionsDecoded} traps {s.Traps}"));
        }

        return code;
    }

    private static int Execute(Hart hart, SbiFirmware sbi, ulong maxInstructions, TextWriter stderr)
    {
        while (true)
        {
            var left = maxInstructions - hart.InstructionsRetired;
            if (hart.InstructionsRetired >= maxInstructions)
            {
                stderr.WriteLine($"run-elf: instruction limit {maxInstructions} reached at pc 0x{hart.Pc:x}");
                return ExitCodes.InstructionLimit;
            }

            switch (hart.Run((long)Math.Min(left, Slice)))
            {
                case ExitReason.SupervisorCall:
                    var outcome = sbi.Handle(hart);
                    if (outcome.Reset)
                    {
                        return ResetCode(outcome, stderr);
                    }

                    break;
                case ExitReason.Idle:
                    SleepUntilInterrupt(hart);
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>WFI with nothing pending: the only wake-up source here is the timer, so sleep until its deadline.</summary>
    private static void SleepUntilInterrupt(Hart hart)
    {
        while (!hart.InterruptPending)
        {
            var deadline = hart.TimerDeadline;
            var now = hart.Time;
            var ticks = deadline == ulong.MaxValue ? Hart.TimebaseHz / 100 : Math.Min(deadline - now, Hart.TimebaseHz / 100);
            Thread.Sleep(TimeSpan.FromTicks((long)ticks)); // 10 MHz ticks are .NET's 100 ns ticks
        }
    }

    private static int ResetCode(SbiOutcome outcome, TextWriter stderr)
    {
        if (outcome.ResetType is 1 or 2)
        {
            stderr.WriteLine($"run-elf: guest requested reboot (type {outcome.ResetType}, reason {outcome.ResetReason})");
            return ExitCodes.Reboot;
        }

        if (outcome.ResetReason == 0)
        {
            return ExitCodes.Shutdown;
        }

        stderr.WriteLine($"run-elf: guest shut down with reason {outcome.ResetReason}{(outcome.ResetReason == 1 ? " (system failure)" : "")}");
        return ExitCodes.GuestFailure;
    }

    private static bool TryLoad(ElfImage image, byte[] file, ContiguousRam ram, out string error)
    {
        var end = ram.BaseAddress + ram.Size;
        foreach (var s in image.Segments)
        {
            if (s.MemorySize > int.MaxValue || s.PhysicalAddress < ram.BaseAddress || s.PhysicalAddress > end || s.MemorySize > end - s.PhysicalAddress)
            {
                error = $"segment at 0x{s.PhysicalAddress:x} size 0x{s.MemorySize:x} does not fit in RAM 0x{ram.BaseAddress:x}-0x{end:x} (try a larger --mem)";
                return false;
            }
        }

        if (image.Entry < ram.BaseAddress || image.Entry >= end)
        {
            error = $"entry point 0x{image.Entry:x} is outside RAM 0x{ram.BaseAddress:x}-0x{end:x}";
            return false;
        }

        foreach (var s in image.Segments)
        {
            var target = ram.Span(s.PhysicalAddress, (int)s.MemorySize);
            file.AsSpan((int)s.Offset, (int)s.FileSize).CopyTo(target);
            target[(int)s.FileSize..].Clear();
        }

        error = "";
        return true;
    }
}
