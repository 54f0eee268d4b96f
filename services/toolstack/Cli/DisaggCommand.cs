using System.CommandLine;

namespace Disagg.Toolstack.Cli;

/// <summary>
/// The `disagg` command line, every verb in it: the CLI's composition. Verbs are thin clients of
/// the daemon, built from nothing but their arguments (start-up is the figure `disagg list` is
/// measured by); `host up` composes the daemon with the generic host (Host/DaemonHost).
/// </summary>
internal static class DisaggCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Disagg toolstack: create and manage domains (xl-compatible verbs)")
        {
            HostCommands.Build(),
            ServiceCommands.Build(),
            CreateCommand.Build(),
            NewCommand.Build(),
            ConsoleCommand.Build(),
            TopCommand.Build(),
            MigrateCommand.Build(),
            FaultCommand.Build(),
        };
        root.Options.Add(Verb.StateDirOption);
        foreach (var verb in DomainCommands.Build().Concat(VcpuCommands.Build()).Concat(HostInfoCommands.Build()).Concat(DeviceCommands.Build()).Concat(SaveCommands.Build()))
        {
            root.Subcommands.Add(verb);
        }

        return root;
    }

    /// <summary>Parses and runs one command line: a parse error exits 2 (after System.CommandLine printed it), signals as <see cref="Interruption"/> says.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var parse = Build().Parse(args);
        using var signals = new Interruption();
        Verb.Signals = signals;

        // Our own handlers, not System.CommandLine's: its timeout would end `host up` in the middle of taking the host down.
        var code = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
        return parse.Errors.Count > 0 ? ExitCodes.Usage : code;
    }
}
