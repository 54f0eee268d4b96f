using System.Globalization;
using Disagg.Kernel.Cpu.SelfTest;

namespace Disagg.Kernel.Runner;

/// <summary>Command-line entry: picks the sub-command. Plain parsing keeps the NativeAOT binary small.</summary>
internal static class KernelCommand
{
    private const string Usage =
        "usage: disagg-kernel run-elf <file.elf> [--mem 64M] [--isa rv64|rv32] [--max-instructions N] [--stats]\n" +
        "       disagg-kernel fuzz [--seconds N] [--seed S]\n" +
        "       disagg-kernel serve --socket PATH [--pcpus N] [--memory SIZE]";

    public static int Run(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return ExitCodes.Usage;
        }

        try
        {
            switch (args[0])
            {
                case "run-elf":
                    if (!RunElfOptions.TryParse(args[1..], out var options, out var error))
                    {
                        Console.Error.WriteLine($"run-elf: {error}\n{Usage}");
                        return ExitCodes.Usage;
                    }

                    using (var stdout = Console.OpenStandardOutput())
                    {
                        return ElfRunner.Run(options!, stdout, Console.Error);
                    }

                case "fuzz":
                    return Fuzz(args[1..]);
                case "serve":
                    if (!Control.ServeOptions.TryParse(args[1..], out var serve, out var serveError))
                    {
                        Console.Error.WriteLine($"serve: {serveError}\n{Usage}");
                        return ExitCodes.Usage;
                    }

                    return Control.KernelService.Run(serve!);
                default:
                    Console.Error.WriteLine(Usage);
                    return ExitCodes.Usage;
            }
        }
        catch (Exception e)
        {
            // A guest cannot cause this (its faults are traps); it is our own bug: stop loudly.
            Console.Error.WriteLine($"disagg-kernel: internal error: {e}");
            return ExitCodes.InternalError;
        }
    }

    private static int Fuzz(string[] args)
    {
        var seconds = 60.0;
        var seed = 1;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var ok = args[i] switch
            {
                "--seconds" => double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seconds),
                "--seed" => int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed),
                _ => false,
            };
            if (!ok)
            {
                Console.Error.WriteLine(Usage);
                return ExitCodes.Usage;
            }
        }

        var report = HartFuzzer.Run(seed, TimeSpan.FromSeconds(seconds));
        Console.WriteLine(FormattableString.Invariant(
            $"fuzz: seed {seed} programs {report.Programs} instructions {report.Instructions} traps {report.Traps} sbi-calls {report.SbiCalls} idles {report.Idles}"));
        if (report.Failure is not null)
        {
            Console.WriteLine("fuzz: FAILED " + report.Failure);
            return 1;
        }

        Console.WriteLine("fuzz: ok");
        return 0;
    }
}
