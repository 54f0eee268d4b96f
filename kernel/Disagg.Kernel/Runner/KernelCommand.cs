namespace Disagg.Kernel.Runner;

/// <summary>Command-line entry: picks the sub-command. Plain parsing keeps the NativeAOT binary small.</summary>
internal static class KernelCommand
{
    private const string Usage =
        "usage: disagg-kernel run-elf <file.elf> [--mem 64M] [--isa rv64|rv32] [--max-instructions N] [--stats] [--engine translate|interp [--translate-after N]]\n" +
        "       disagg-kernel serve --socket PATH [--pcpus N] [--memory SIZE] [--engine translate|interp] [--arch rv32|rv64]";

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
}
