using System.Globalization;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Supervision;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// The host's service domains: which exist (built-in ones whose program is in the toolstack's
/// folder, plus the host config's extra ones), each registered with the kernel under its own
/// domain id and run by a <see cref="SupervisedService"/>. A service learns how to reach the kernel
/// from its environment: DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID. The device
/// backends (netback, blkback) find their devices in xenstore, so they start after xenstored and
/// only when it serves. The supervisor is a hosted service: it starts after the kernel and the
/// consoles, and stops before them, after the guests.
/// </summary>
internal sealed class ServiceDomains(StateDir state, HostConfig config, KernelLink kernel, DaemonLog log) : IHostedService
{
    /// <summary>How long `host up` waits for a service's ready line before it carries on without it.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    private readonly List<SupervisedService> _services = [];
    private int _xenstoreDomain;

    /// <summary>Built-in services, in start order, with the domain id each is registered under.</summary>
    public static IReadOnlyList<(string Name, int DomainId)> Builtin { get; } = [("xenstored", 1), ("netback", 2), ("blkback", 3)];

    /// <summary>The domain id guests are told to find xenstored at (0 when it is not running).</summary>
    public int XenstoreDomain
    {
        get => Volatile.Read(ref _xenstoreDomain);
        private set => Volatile.Write(ref _xenstoreDomain, value);
    }

    public IReadOnlyDictionary<string, string> Sockets =>
        _services.Where(s => s.Spec.Arguments.Contains("--socket")).ToDictionary(s => s.Spec.Name, s => state.ServiceSocket(s.Spec.Name));

    public async Task StartAsync(CancellationToken cancel)
    {
        var kernelSocket = kernel.Child.Socket;
        var bin = AppContext.BaseDirectory;
        var nextExtraId = 16;
        var wanted = new List<(string Name, int DomainId, string Program, IReadOnlyList<string> Args)>();
        foreach (var (name, id) in Builtin)
        {
            var program = Path.Combine(bin, "disagg-" + name);
            var asked = config.BuiltinServices?.Contains(name) ?? File.Exists(program);
            if (asked)
            {
                wanted.Add((name, id, program, BuiltinArguments(name)));
            }
        }

        foreach (var extra in config.ExtraServices)
        {
            wanted.Add((extra.Name, nextExtraId++, extra.Program, extra.Arguments));
        }

        foreach (var (name, id, program, args) in wanted)
        {
            if (name is "netback" or "blkback" && !_services.Any(s => s.Spec.Name == "xenstored"))
            {
                log.ServiceNotStarted(name, "it finds its devices in xenstore, and xenstored is not one of this host's services");
                continue;
            }

            var registered = await kernel.Client.CallAsync<ServiceRegistered>(new RegisterService(name, id), cancel).ConfigureAwait(false);
            var service = new SupervisedService(
                new ServiceSpec
                {
                    Name = name,
                    Program = program,
                    Arguments = args,
                    DomainId = registered.DomainId,
                    LogFile = state.ServiceLog(name),
                    ReadyLinePrefix = "ready",
                    Environment = new Dictionary<string, string>
                    {
                        ["DISAGG_KERNEL_SOCKET"] = kernelSocket,
                        ["DISAGG_SERVICE_TOKEN"] = registered.Token,
                        ["DISAGG_DOMAIN_ID"] = registered.DomainId.ToString(CultureInfo.InvariantCulture),
                    },
                },
                OnRestart);
            _services.Add(service);
            service.Start();
            if (name == "xenstored")
            {
                // Guests get xenstore from the moment it first serves, even when that is after the ready timeout below.
                var domain = registered.DomainId;
                _ = service.Ready.ContinueWith(_ => XenstoreDomain = domain, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            }
            try
            {
                await service.Ready.WaitAsync(ReadyTimeout, cancel).ConfigureAwait(false);
                log.ServiceReady(name, registered.DomainId, service.Status().Pid ?? 0);
                if (name == "xenstored")
                {
                    XenstoreDomain = registered.DomainId;
                }
            }
            catch (TimeoutException)
            {
                log.ServiceNotReady(name, ReadyTimeout.TotalSeconds, service.Status().LastExit ?? "no ready line");
            }
        }
    }

    /// <summary>A crash is a warning with its cause and downtime; a restart or swap that was asked for is information.</summary>
    private void OnRestart(RestartRecord r)
    {
        if (r.Planned)
        {
            log.ServicePlannedRestart(r.Service, r.Cause, r.Downtime.TotalMilliseconds);
        }
        else
        {
            log.ServiceRestarted(r.Service, r.DiedAt, r.Cause, r.Downtime.TotalMilliseconds, r.Backoff.TotalMilliseconds);
        }
    }

    /// <summary>
    /// The domain that serves a device kind's backends ("vif": netback, "vbd": blkback): its
    /// domain id while the host supervises it (running or being restarted), else 0, the control
    /// domain, as before driver domains existed (xenstore entries without a backend process).
    /// </summary>
    public int BackendDomain(string kind)
    {
        var name = kind switch
        {
            "vif" => "netback",
            "vbd" => "blkback",
            _ => null,
        };
        var service = _services.FirstOrDefault(s => s.Spec.Name == name);
        return service is not null && service.Status().State != ServiceState.Failed ? service.Spec.DomainId : 0;
    }

    public IReadOnlyList<ServiceRow> List() => [.. _services.Select(s => Row(s.Status()))];

    /// <summary>restart (planned) or kill (SIGKILL, seen as a crash); null when no such service.</summary>
    public string? Act(string name, ServiceAction action)
    {
        var service = _services.FirstOrDefault(s => s.Spec.Name == name);
        if (service is null)
        {
            return null;
        }

        var pid = service.Status().Pid;
        var done = action == ServiceAction.Kill ? service.Kill() : service.Restart();
        return done
            ? $"service '{name}' (pid {pid}): {(action == ServiceAction.Kill ? "sent SIGKILL" : "restarting")}"
            : $"service '{name}' has no running process ({service.Status().State.ToString().ToLowerInvariant()})";
    }

    /// <summary>
    /// `service swap NAME --binary PATH`: the running process is stopped as planned and PATH started under the
    /// same domain id, token, arguments and state dir; the reply waits until the new binary serves.
    /// </summary>
    public async Task<string> SwapAsync(string name, string binary, TimeSpan timeout, CancellationToken cancel)
    {
        var service = _services.FirstOrDefault(s => s.Spec.Name == name)
            ?? throw new ToolstackException($"no service '{name}' (see `disagg service list`)");
        var path = Path.GetFullPath(binary);
        if (!File.Exists(path))
        {
            throw new ToolstackException($"service '{name}': cannot swap to {path}: no such file");
        }

        if ((File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new ToolstackException($"service '{name}': cannot swap to {path}: not executable");
        }

        var old = service.Status();
        var started = Environment.TickCount64;
        Task<int> swapped;
        try
        {
            swapped = service.SwapAsync(path);
        }
        catch (InvalidOperationException e)
        {
            throw new ToolstackException($"service '{name}': cannot swap now: {e.Message}");
        }

        int pid;
        try
        {
            pid = await swapped.WaitAsync(timeout, cancel).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            log.ServiceSwapFailed(name, path, e.Message);
            throw new ToolstackException($"service '{name}': swap failed: {e.Message}");
        }
        catch (TimeoutException)
        {
            throw new ToolstackException($"service '{name}': {path} did not print its ready line within {timeout.TotalSeconds:0} s; it may still come up (see `disagg service list` and {state.ServiceLog(name)})");
        }

        var ms = Environment.TickCount64 - started;
        log.ServiceSwapped(name, old.Program, path, pid, ms);
        return $"service '{name}' (domain {old.DomainId}): pid {old.Pid} ({old.Program}) replaced by pid {pid} ({path}), serving after {ms} ms";
    }

    /// <summary>Stops every service, last started first.</summary>
    public async Task StopAsync(CancellationToken cancel)
    {
        for (var i = _services.Count - 1; i >= 0; i--)
        {
            await _services[i].DisposeAsync().ConfigureAwait(false);
            log.ServiceStopped(_services[i].Spec.Name);
        }

        _services.Clear();
    }

    private IReadOnlyList<string> BuiltinArguments(string name)
    {
        var xenstore = state.ServiceSocket("xenstored");
        var stateDir = state.Combine(name);
        return name switch
        {
            "xenstored" => ["--socket", xenstore, "--state-dir", stateDir],
            "netback" => ["--xenstore", xenstore, "--state-dir", stateDir, .. config.Uplinks.SelectMany(u => new[] { "--uplink", u })],
            _ => ["--xenstore", xenstore, "--state-dir", stateDir],
        };
    }

    private static ServiceRow Row(ServiceStatus s) => new(
        s.Name,
        s.DomainId,
        s.Pid,
        s.State.ToString().ToLowerInvariant(),
        (long)s.Uptime.TotalMilliseconds,
        s.Restarts,
        s.Swaps,
        s.Program,
        s.RssBytes,
        s.LastExit);
}
