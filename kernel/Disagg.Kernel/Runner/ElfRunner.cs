using System.Diagnostics;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Loader;

namespace Disagg.Kernel.Runner;

/// <summary>
/// `run-elf`: one ELF as a one-vCPU domain on a one-pCPU hypervisor — the same domain, scheduler, timers
/// and SBI platform (<see cref="Core.Platform.DomainPlatform"/>) as under the toolstack — with the SBI
/// console on this process's stdout and stdin, until the guest shuts down or the instruction limit is
/// reached. The guest is a bare ELF, not a PV kernel: it starts with a0 = 0 (hart id) and a1 = 0 (no
/// device tree), as on QEMU's virt machine without one, so the same ELF runs on both.
/// </summary>
internal static class ElfRunner
{
    /// <summary>How often the runner looks at the instruction count and the hart's HSM state: a limit's overshoot is at most this much guest time.</summary>
    private static readonly TimeSpan Check = TimeSpan.FromMilliseconds(1);

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

        if (!Fits(image!, options.MemoryBytes, out error))
        {
            stderr.WriteLine($"run-elf: {options.File}: {error}");
            return ExitCodes.BadElf;
        }

        var pages = (long)(options.MemoryBytes / PvLayout.PageSize);
        var console = new StdioConsole(stdout, Console.OpenStandardInput);
        using var stopped = new ManualResetEventSlim();
        var hypervisor = new Hypervisor(pcpus: 1, (pages + PvLayout.SpecialPages) * (long)PvLayout.PageSize)
        {
            Engine = options.Engine,
            TranslateAfter = options.TranslateAfter,
        };
        try
        {
            hypervisor.StateChanged += change =>
            {
                if (change.State is DomainState.Shutdown or DomainState.Crashed)
                {
                    stopped.Set();
                }
            };
            var domain = hypervisor.CreateDomain(
                new DomainSpec
                {
                    Name = Path.GetFileName(options.File),
                    Isa = options.Isa ?? (image!.Is64 ? IsaWidth.Rv64 : IsaWidth.Rv32),
                    MemoryPages = pages,
                    MaxMemoryPages = pages,
                },
                console);
            domain.PrepareBoot(image!.LoadableSegments(file), image.Entry, commandLine: "");
            var vcpu = domain.Vcpus[0];
            vcpu.Hart.SetX(11, 0); // no device tree (PrepareBoot put start_info there: a PV kernel's boot)
            var logFrom = hypervisor.Log.End;
            var clock = Stopwatch.StartNew();
            domain.Unpause();
            var end = WaitForShutdown(vcpu, options.MaxInstructions, stopped);
            if (end != RunEnd.Shutdown)
            {
                domain.Pause();
                SpinWait.SpinUntil(() => !hypervisor.Scheduler.IsOnCpu(vcpu.Sched));
            }

            clock.Stop();
            console.Flush(); // the vCPU is off its pCPU (stopped or paused): what the guest printed reaches stdout first
            var kernelSaid = CopyLog(hypervisor, logFrom, stderr);
            int code;
            switch (end)
            {
                case RunEnd.InstructionLimit:
                    stderr.WriteLine($"run-elf: instruction limit {options.MaxInstructions} reached at pc 0x{vcpu.Hart.Pc:x}");
                    code = ExitCodes.InstructionLimit;
                    break;
                case RunEnd.HartStopped:
                    stderr.WriteLine("run-elf: the guest stopped its only hart (SBI HSM hart_stop): nothing can start it again");
                    code = ExitCodes.GuestFailure;
                    break;
                default:
                    code = ShutdownCode(domain.ShutdownReason, kernelSaid, stderr);
                    break;
            }

            if (options.Stats)
            {
                PrintStats(vcpu.Hart, clock.Elapsed.TotalSeconds, stderr);
            }

            return code;
        }
        finally
        {
            hypervisor.Dispose();
            console.Flush();
        }
    }

    /// <summary>Waits until the guest shuts down, retires <paramref name="maxInstructions"/>, or stops its only hart.</summary>
    private static RunEnd WaitForShutdown(Vcpu vcpu, ulong maxInstructions, ManualResetEventSlim stopped)
    {
        // The vCPU runs on its pCPU thread; its count and HSM state are read from here, at most Check late.
        while (!stopped.Wait(Check))
        {
            if (vcpu.Hart.InstructionsRetired >= maxInstructions)
            {
                return RunEnd.InstructionLimit;
            }

            if (!vcpu.Started)
            {
                return RunEnd.HartStopped;
            }
        }

        return RunEnd.Shutdown;
    }

    /// <summary>
    /// SRST (or SCHEDOP_shutdown) as an exit code: poweroff 0, a crash 1 (SRST's system-failure reason), a
    /// reboot 5 (there is nothing to reboot into). A crash the kernel logged a BUG for is our own broken
    /// invariant (an engine exception), not the guest's: 70, as before run-elf was a domain.
    /// </summary>
    private static int ShutdownCode(ShutdownReason reason, string kernelSaid, TextWriter stderr)
    {
        switch (reason)
        {
            case ShutdownReason.Poweroff:
                return ExitCodes.Shutdown;
            case ShutdownReason.Reboot:
                stderr.WriteLine("run-elf: guest requested reboot");
                return ExitCodes.Reboot;
            case ShutdownReason.Crash when kernelSaid.Contains("BUG:", StringComparison.Ordinal):
                return ExitCodes.InternalError;
            default:
                stderr.WriteLine($"run-elf: guest shut down with reason {reason}{(reason == ShutdownReason.Crash ? " (system failure)" : "")}");
                return ExitCodes.GuestFailure;
        }
    }

    /// <summary>Kernel messages since boot (a BUG line, the guest's console_io text) to stderr; returns them.</summary>
    private static string CopyLog(Hypervisor hypervisor, long from, TextWriter stderr)
    {
        var bytes = new byte[(int)Math.Min(hypervisor.Log.End - from, hypervisor.Log.Capacity)];
        var n = hypervisor.Log.Read(from, bytes, out _, out _);
        var text = System.Text.Encoding.UTF8.GetString(bytes, 0, n);
        stderr.Write(text);
        return text;
    }

    private static void PrintStats(Hart hart, double seconds, TextWriter stderr)
    {
        var s = hart.Statistics;
        stderr.WriteLine(FormattableString.Invariant(
            $"stats: instructions {hart.InstructionsRetired} wall {seconds:F3} s mips {hart.InstructionsRetired / seconds / 1e6:F1}"));
        stderr.WriteLine(FormattableString.Invariant(
            $"stats: tlb-fills {s.TlbFills} page-walks {s.PageWalks} tlb-flushes {s.TlbFlushes} decoded-pages {s.PagesDecoded} decoded-instructions {s.InstructionsDecoded} traps {s.Traps}"));
        if (hart.Engine == HartEngine.Translate)
        {
            stderr.WriteLine(FormattableString.Invariant($"stats: blocks-translated {s.BlocksTranslated} translated-bytes {s.TranslatedBytes}"));
            stderr.WriteLine(FormattableString.Invariant($"stats: first-translation {s.FirstTranslationMilliseconds:F2} ms"));
            stderr.WriteLine(FormattableString.Invariant(
                $"stats: exits-to-interpreter {s.ExitsToInterpreter} exits-at-limit {s.ExitsAtLimit} exits-unchained {s.ExitsUnchained} interpreted-block-starts {s.InterpretedBlockStarts}"));
        }
    }

    /// <summary>Every segment and the entry point inside RAM [0x8000_0000, + memory), said with the numbers.</summary>
    private static bool Fits(ElfImage image, ulong memoryBytes, out string error)
    {
        const ulong ramBase = PvLayout.RamBase;
        var end = ramBase + memoryBytes;
        foreach (var s in image.Segments)
        {
            if (s.MemorySize > int.MaxValue || s.PhysicalAddress < ramBase || s.PhysicalAddress > end || s.MemorySize > end - s.PhysicalAddress)
            {
                error = $"segment at 0x{s.PhysicalAddress:x} size 0x{s.MemorySize:x} does not fit in RAM 0x{ramBase:x}-0x{end:x} (try a larger --mem)";
                return false;
            }
        }

        if (image.Entry < ramBase || image.Entry >= end)
        {
            error = $"entry point 0x{image.Entry:x} is outside RAM 0x{ramBase:x}-0x{end:x}";
            return false;
        }

        error = "";
        return true;
    }

    private enum RunEnd
    {
        Shutdown,
        InstructionLimit,
        HartStopped,
    }
}
