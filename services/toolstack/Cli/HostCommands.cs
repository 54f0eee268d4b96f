using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg host up|down|status` (and install|uninstall, HostInstallCommands): one host (kernel, services, daemon) per state dir.</summary>
internal static class HostCommands
{
    public static Command Build()
    {
        var host = new Command("host", "start, stop, inspect and install the host (kernel, service domains, daemon)")
        {
            Up(),
            Down(),
            Status(),
        };
        foreach (var verb in HostInstallCommands.Build())
        {
            host.Subcommands.Add(verb);
        }

        return host;
    }

    private static Command Up()
    {
        var memory = new Option<string?>("--memory") { Description = "memory for guests, like 512M or 2G (host.conf: memory)" };
        var pcpus = new Option<int?>("--pcpus") { Description = "physical CPUs the kernel schedules on (host.conf: pcpus; default all host cores)" };
        var config = new Option<FileInfo?>("--config") { Description = "host config file (default: STATE_DIR/host.conf if it exists)" };
        var foreground = new Option<bool>("--foreground") { Description = "stay in the foreground and log to stdout instead of daemonizing" };
        var http = new Option<string?>("--http") { Description = "serve the dashboard and /metrics on this loopback ADDR:PORT (host.conf: http; port 0 picks one, see STATE_DIR/http.addr)" };
        var faults = new Option<bool>("--fault-injection") { Description = "a test host: its service domains take channel faults from `disagg fault` (ring delays, dropped or spurious events, copy errors, disk EIO, torn journal writes)" };
        var command = new Command("up", "start a host: the kernel, then each service domain, then the daemon the CLI talks to") { memory, pcpus, config, foreground, http, faults };
        var hostOptions = HostMigrationOptions.AddTo(command);
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var state = Verb.State(parse);
            var loaded = LoadConfig(state, parse.GetValue(config), parse.GetValue(memory), parse.GetValue(pcpus), parse.GetValue(http));
            var settings = hostOptions.Apply(parse, parse.GetValue(faults) ? loaded with { FaultInjection = true } : loaded);
            if (parse.GetValue(foreground))
            {
                return await RunForegroundAsync(state, settings).ConfigureAwait(false);
            }

            var args = new List<string> { "host", "up", "--foreground", "--state-dir", state.Path };
            if (parse.GetValue(config) is { } c)
            {
                args.AddRange(["--config", c.FullName]);
            }

            if (parse.GetValue(memory) is { } m)
            {
                args.AddRange(["--memory", m]);
            }

            if (parse.GetValue(pcpus) is { } p)
            {
                args.AddRange(["--pcpus", p.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }

            if (parse.GetValue(http) is { } h)
            {
                args.AddRange(["--http", h]);
            }

            if (parse.GetValue(faults))
            {
                args.Add("--fault-injection");
            }

            hostOptions.Forward(parse, args);
            var pid = await Daemonizer.StartAsync(state, args, cancel).ConfigureAwait(false);
            Console.WriteLine($"host up: state dir {state.Path}, daemon pid {pid}, log {state.DaemonLog}");
            return 0;
        }, handlesSignals: true);
        return command;
    }

    private static HostConfig LoadConfig(StateDir state, FileInfo? file, string? memory, int? pcpus, string? http = null)
    {
        try
        {
            var path = file?.FullName ?? state.ConfigFile;
            var config = file is not null || File.Exists(path) ? HostConfig.Read(path) : new HostConfig();
            if (memory is not null)
            {
                config = config with { Memory = HostConfig.CheckSize(memory, "--memory") };
            }

            if (pcpus is { } n)
            {
                config = n is >= 1 and <= 64 ? config with { Pcpus = n } : throw CliException.Usage($"--pcpus {n}: 1..64");
            }

            if (http is not null)
            {
                config = config with { Http = HostConfig.CheckHttp(http, "--http") };
            }

            return config;
        }
        catch (HostConfigException e)
        {
            throw new CliException(e.Message);
        }
        catch (IOException e)
        {
            throw new CliException($"cannot read host config: {e.Message}");
        }
    }

    /// <summary>The daemon itself: the generic host composed by <see cref="DaemonHost"/>, until `host down`, SIGTERM or SIGINT.</summary>
    private static async Task<int> RunForegroundAsync(StateDir state, HostConfig config)
    {
        using var host = DaemonHost.Build(state, config);
        try
        {
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is ToolstackException or KernelStartException or Control.KernelRequestException or Control.KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // What started is stopped in reverse order (each part tolerates never having started).
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw e is OperationCanceledException ? e : new CliException(e.Message);
        }

        Console.Out.WriteLine($"ready state-dir={state.Path} socket={state.DaemonSocket}");
        Console.Out.Flush();
        await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    private static Command Down()
    {
        var timeout = new Option<int>("--timeout") { Description = "seconds guests get to shut down before they are destroyed", DefaultValueFactory = _ => 10 };
        var command = new Command("down", "stop the host: guests (shutdown, then destroy after the timeout), then services, then the kernel") { timeout };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var state = Verb.State(parse);
            var pid = PidFile.ReadLive(state.PidFile);
            await Verb.CallAsync<OkReply>(parse, new HostDownRequest(parse.GetValue(timeout)), cancel).ConfigureAwait(false);
            var until = Stopwatch.StartNew();
            while (pid is { } p && Signals.IsAlive(p))
            {
                if (until.Elapsed > TimeSpan.FromSeconds(parse.GetValue(timeout) + 30))
                {
                    throw new CliException($"the daemon (pid {pid}) is still running; see {state.DaemonLog}");
                }

                await Task.Delay(20, cancel).ConfigureAwait(false);
            }

            if (File.Exists(state.DaemonSocket))
            {
                File.Delete(state.DaemonSocket);
                throw new CliException($"the daemon exited without cleaning up (stale socket removed); see {state.DaemonLog}");
            }

            Console.WriteLine($"host {state.Path} is down");
            return 0;
        });
        return command;
    }

    private static Command Status()
    {
        var json = Verb.JsonOption();
        var command = new Command("status", "the host: daemon, kernel, services, guests") { json };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var status = await Verb.CallAsync<HostStatusReply>(parse, new HostStatusRequest(), cancel).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(status, ToolstackJsonContext.Default.HostStatusReply));
                return 0;
            }

            Console.WriteLine($"state dir   {status.StateDir}");
            Console.WriteLine($"daemon      pid {status.DaemonPid}, socket {status.DaemonSocket}, up {status.UptimeMs / 1000.0:F1} s");
            Console.WriteLine($"kernel      {(status.KernelPid is { } k ? $"pid {k}, " : "")}{status.KernelState}, socket {status.KernelSocket}");
            Console.WriteLine($"guests      {status.Guests}");
            ServiceCommands.PrintTable(status.Services);
            return status.KernelState == "running" ? 0 : 1;
        });
        return command;
    }
}
