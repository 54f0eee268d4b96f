using System.CommandLine;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Host.Install;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg host install|uninstall`: the systemd unit and host config file of a machine that runs a host at boot.</summary>
internal static class HostInstallCommands
{
    public static IEnumerable<Command> Build() => [Install(), Uninstall()];

    private static Option<string> RootOption() => new("--root")
    {
        Description = "write into this directory as the installed system's root (an image being built, a test); default /",
        DefaultValueFactory = _ => "/",
    };

    private static Command Install()
    {
        var root = RootOption();
        var memory = new Option<string?>("--memory") { Description = "memory for guests, like 512M or 2G (default 1G)" };
        var pcpus = new Option<int?>("--pcpus") { Description = "physical CPUs the kernel schedules on (default all host cores)" };
        var http = new Option<string?>("--http") { Description = "serve the dashboard and /metrics on this loopback ADDR:PORT" };
        var command = new Command(
            "install",
            $"write a systemd unit ({HostInstallation.UnitPath}: the host as a notify service) and a host config file ({HostInstallation.ConfigPath}); --state-dir defaults to {HostInstallation.DefaultStateDir}")
        { root, memory, pcpus, http };
        Verb.SetAction(command, (parse, _) =>
        {
            var config = new HostConfig();
            if (parse.GetValue(memory) is { } m)
            {
                config = config with { Memory = Checked(() => HostConfig.CheckSize(m, "--memory")) };
            }

            if (parse.GetValue(pcpus) is { } p)
            {
                config = p is >= 1 and <= 64 ? config with { Pcpus = p } : throw new CliException($"--pcpus {p}: 1..64", ExitCodes.Usage);
            }

            if (parse.GetValue(http) is { } h)
            {
                config = config with { Http = Checked(() => HostConfig.CheckHttp(h, "--http")) };
            }

            var installation = Installation(parse, root, config);
            foreach (var line in Run(installation.Install))
            {
                Console.WriteLine(line);
            }

            Console.WriteLine(installation.Root == "/"
                ? "next: systemctl daemon-reload && systemctl enable --now disagg"
                : $"installed under {installation.Root}; on that system: systemctl daemon-reload && systemctl enable --now disagg");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command Uninstall()
    {
        var root = RootOption();
        var command = new Command("uninstall", "remove what `host install` wrote (stop the unit first: systemctl disable --now disagg); the state dir stays") { root };
        Verb.SetAction(command, (parse, _) =>
        {
            foreach (var line in Run(Installation(parse, root, new HostConfig()).Uninstall))
            {
                Console.WriteLine(line);
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static HostInstallation Installation(ParseResult parse, Option<string> root, HostConfig config)
    {
        var r = Path.GetFullPath(parse.GetValue(root)!);
        if (!Directory.Exists(r))
        {
            throw new CliException($"--root {r}: no such directory", ExitCodes.Usage);
        }

        // The unit's state dir: --state-dir when given, else systemd's /var/lib/disagg (not DISAGG_STATE_DIR: that is this shell's host).
        var state = parse.GetValue(Verb.StateDirOption) is { Length: > 0 } s ? Path.GetFullPath(s) : HostInstallation.DefaultStateDir;
        return new HostInstallation(r, AppContext.BaseDirectory.TrimEnd('/'), state, config);
    }

    private static T Checked<T>(Func<T> check)
    {
        try
        {
            return check();
        }
        catch (HostConfigException e)
        {
            throw new CliException(e.Message, ExitCodes.Usage);
        }
    }

    private static IReadOnlyList<string> Run(Func<IReadOnlyList<string>> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is HostConfigException or IOException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message);
        }
    }
}
