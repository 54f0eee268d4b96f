using System.CommandLine;
using Disagg.Toolstack.Cli;

// disagg: the xl-compatible command line of the control domain; `disagg host up` is also the host daemon.
var root = new RootCommand("Disagg toolstack: create and manage domains (xl-compatible verbs)")
{
    HostCommands.Build(),
    ServiceCommands.Build(),
    CreateCommand.Build(),
    NewCommand.Build(),
    ConsoleCommand.Build(),
    TopCommand.Build(),
};
root.Options.Add(Verb.StateDirOption);
foreach (var verb in DomainCommands.Build().Concat(VcpuCommands.Build()).Concat(HostInfoCommands.Build()).Concat(DeviceCommands.Build()))
{
    root.Subcommands.Add(verb);
}

return await root.Parse(args).InvokeAsync();
