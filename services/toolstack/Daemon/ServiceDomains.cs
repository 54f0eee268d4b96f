using System.Globalization;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Sandbox;
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

    /// <summary>Each service's kind ("netback", "blkback", ...): a built-in's is its name, an added driver domain's is what `service add --kind` said.</summary>
    private readonly Dictionary<string, string> _kinds = [];
    private readonly SemaphoreSlim _adding = new(1, 1);
    private int _nextExtraId = FirstExtraDomainId;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RestartRecord> _lastRestarts = new(StringComparer.Ordinal);
    private int _xenstoreDomain;

    /// <summary>Service domains beyond the built-in ones get ids from here (the config's extras, then `service add`).</summary>
    private const int FirstExtraDomainId = 16;

    /// <summary>Set to "1" in the daemon's environment by a host started for tests: its services get the sandbox probe.</summary>
    public const string TestHooksVariable = "DISAGG_TEST_HOOKS";

    /// <summary>The test-only probe's request file (shared/Service/Hosting/SandboxProbe).</summary>
    private const string ProbeVariable = "DISAGG_SANDBOX_PROBE";

    /// <summary>Built-in services, in start order, with the domain id each is registered under.</summary>
    public static IReadOnlyList<(string Name, int DomainId)> Builtin { get; } = [("xenstored", 1), ("netback", 2), ("blkback", 3)];

    /// <summary>The domain id guests are told to find xenstored at (0 when it is not running).</summary>
    public int XenstoreDomain
    {
        get => Volatile.Read(ref _xenstoreDomain);
        private set => Volatile.Write(ref _xenstoreDomain, value);
    }

    public IReadOnlyDictionary<string, string> Sockets =>
        Snapshot().Where(s => s.Spec.Arguments.Contains("--socket")).ToDictionary(s => s.Spec.Name, s => state.ServiceSocket(s.Spec.Name));

    public async Task StartAsync(CancellationToken cancel)
    {
        var bin = AppContext.BaseDirectory;
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
            wanted.Add((extra.Name, _nextExtraId++, extra.Program, extra.Arguments));
        }

        foreach (var (name, id, program, args) in wanted)
        {
            if (name is "netback" or "blkback" && Find("xenstored") is null)
            {
                log.ServiceNotStarted(name, "it finds its devices in xenstore, and xenstored is not one of this host's services");
                continue;
            }

            var builtin = Builtin.Any(b => b.Name == name);
            var kind = builtin ? name : null; // a config's extra service is not a driver domain
            var sandboxKind = builtin ? name : SandboxPolicy.KindOf(program); // but one of our programs runs in its kind's sandbox
            if (!builtin && sandboxKind is null && config.Sandbox)
            {
                log.ServiceUnsandboxed(name, program);
            }

            var (service, registered) = await LaunchAsync(name, kind, sandboxKind, id, program, args, cancel).ConfigureAwait(false);
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

    /// <summary>Registers a service domain with the kernel and starts its supervised process.</summary>
    /// <param name="kind">A driver domain's kind (backend= may name it), or null.</param>
    /// <param name="sandboxKind">Whose sandbox it runs in (SandboxPolicy), or null: none (a program with no allow-list).</param>
    /// <param name="disks">A qemu-dm's disks, which its sandbox lets it open.</param>
    private async Task<(SupervisedService Service, ServiceRegistered Registered)> LaunchAsync(
        string name, string? kind, string? sandboxKind, int id, string program, IReadOnlyList<string> args, CancellationToken cancel,
        Func<int, Task>? beforeStart = null, IReadOnlyList<(string Path, bool ReadOnly, bool Qcow2)>? disks = null)
    {
        var registered = await kernel.Client.CallAsync<ServiceRegistered>(new RegisterService(name, id), cancel).ConfigureAwait(false);
        if (beforeStart is not null)
        {
            await beforeStart(registered.DomainId).ConfigureAwait(false);
        }

        var environment = new Dictionary<string, string>
        {
            ["DISAGG_KERNEL_SOCKET"] = kernel.Child.Socket,
            ["DISAGG_SERVICE_TOKEN"] = registered.Token,
            ["DISAGG_DOMAIN_ID"] = registered.DomainId.ToString(CultureInfo.InvariantCulture),
        };
        ServiceSandbox? sandbox = null;
        if (sandboxKind is not null)
        {
            // Its state dir exists before it starts, 0700 (its sandbox makes it the one writable place).
            var stateDir = state.Combine(name);
            Directory.CreateDirectory(stateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(stateDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (config.Sandbox)
            {
                sandbox = SandboxPolicy.For(sandboxKind, stateDir, state, config.Uplinks.Count > 0, disks);
            }

            if (Environment.GetEnvironmentVariable(TestHooksVariable) == "1")
            {
                environment[ProbeVariable] = Path.Combine(stateDir, "sandbox-probe");
            }
        }

        if (config.FaultInjection)
        {
            // Inside the service's own state dir: the one place its sandbox lets it create a socket.
            Directory.CreateDirectory(Path.GetDirectoryName(state.FaultSocket(name))!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            environment[Disagg.Service.Faults.ChannelFaults.SocketVariable] = state.FaultSocket(name);
        }

        var service = new SupervisedService(
            new ServiceSpec
            {
                Name = name,
                Program = program,
                Arguments = args,
                DomainId = registered.DomainId,
                LogFile = state.ServiceLog(name),
                ReadyLinePrefix = "ready",
                Environment = environment,
                Sandbox = sandbox,
            },
            OnRestart);
        lock (_services)
        {
            _services.Add(service);
            if (kind is not null)
            {
                _kinds[name] = kind;
            }
        }

        service.Start();
        return (service, registered);
    }

    /// <summary>
    /// A service domain that belongs to one guest (an HVM domain's qemu-dm): registered under the next id
    /// from <see cref="FirstExtraDomainId"/> the kernel has not given a guest, supervised like every other
    /// (restarted when it dies, listed, killable), and gone with its guest through <see cref="RetireAsync"/>.
    /// Not a driver domain: no backend= names it. <paramref name="beforeStart"/> gets the registered id before the process
    /// starts (qemu-dm must be named the domain's device model before it asks for the ioreq page).
    /// </summary>
    /// <param name="disks">Its guest's disks (path, read-only, qcow2): the files its sandbox lets it open.</param>
    public async Task<SupervisedService> LaunchForGuestAsync(
        string name, string program, IReadOnlyList<string> args, IReadOnlyList<(string Path, bool ReadOnly, bool Qcow2)> disks, Func<int, Task> beforeStart, CancellationToken cancel)
    {
        for (var tries = 0; ; tries++)
        {
            var id = Interlocked.Increment(ref _nextExtraId) - 1;
            try
            {
                return (await LaunchAsync(name, kind: null, sandboxKind: "qemu-dm", id, program, args, cancel, beforeStart, disks).ConfigureAwait(false)).Service;
            }
            catch (KernelRequestException e) when (e.Errno == (int)Disagg.Abi.Hypercalls.XenErrno.EEXIST && tries < 256)
            {
                // a guest holds that id (guests and service domains share the kernel's id space): the next one
            }
        }
    }

    /// <summary>Stops a guest's service domain for good (its process ended, no restart) and drops it from the list; its domain id, null if there was none.</summary>
    public async Task<int?> RetireAsync(string name)
    {
        SupervisedService? service;
        lock (_services)
        {
            service = _services.FirstOrDefault(s => s.Spec.Name == name);
            if (service is not null)
            {
                _services.Remove(service);
            }
        }

        if (service is null)
        {
            return null;
        }

        await service.DisposeAsync().ConfigureAwait(false);
        _lastRestarts.TryRemove(name, out _);
        log.ServiceStopped(name);
        return service.Spec.DomainId;
    }

    /// <summary>
    /// `service add NAME --kind netback|blkback`: one more driver domain of that kind, with its own process,
    /// domain id, state dir and log (and, for netback, its own bridges); guests place devices on it with
    /// backend=NAME. Returns once it serves.
    /// </summary>
    public async Task<string> AddAsync(string name, string kind, CancellationToken cancel)
    {
        if (!DriverDomainName.Valid(name))
        {
            throw new ToolstackException($"service '{name}': the name {DriverDomainName.Rule}");
        }

        if (kind is not ("netback" or "blkback"))
        {
            throw new ToolstackException($"service '{name}': kind '{kind}' is not a driver domain (netback or blkback)");
        }

        await _adding.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (Find(name) is not null)
            {
                throw new ToolstackException($"service '{name}' already exists (see `disagg service list`)");
            }

            if (XenstoreDomain == 0)
            {
                throw new ToolstackException($"service '{name}': a {kind} finds its devices in xenstore, and xenstored does not serve on this host");
            }

            var program = Path.Combine(AppContext.BaseDirectory, "disagg-" + kind);
            if (!File.Exists(program))
            {
                throw new ToolstackException($"service '{name}': {program} does not exist (build it first)");
            }

            var (service, registered) = await LaunchAsync(name, kind, kind, _nextExtraId++, program, Arguments(kind, name), cancel).ConfigureAwait(false);
            try
            {
                await service.Ready.WaitAsync(ReadyTimeout, cancel).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                log.ServiceNotReady(name, ReadyTimeout.TotalSeconds, service.Status().LastExit ?? "no ready line");
                return $"service '{name}' ({kind}, domain {registered.DomainId}) started but not ready after {ReadyTimeout.TotalSeconds:0} s; see {state.ServiceLog(name)}";
            }

            log.ServiceReady(name, registered.DomainId, service.Status().Pid ?? 0);
            return $"service '{name}' ({kind}) serving as domain {registered.DomainId}, pid {service.Status().Pid}";
        }
        finally
        {
            _adding.Release();
        }
    }

    private SupervisedService[] Snapshot()
    {
        lock (_services)
        {
            return [.. _services];
        }
    }

    private SupervisedService? Find(string name)
    {
        lock (_services)
        {
            return _services.FirstOrDefault(s => s.Spec.Name == name);
        }
    }

    /// <summary>A crash is a warning with its cause and downtime; a restart or swap that was asked for is information.</summary>
    private void OnRestart(RestartRecord r)
    {
        _lastRestarts[r.Service] = r;
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
    public int BackendDomain(string kind) => BackendDomain(kind, null);

    /// <summary>
    /// The domain a device with xl's backend=NAME goes to: the service of that name (or domain id), which must be
    /// of the device's kind (a vif's backend a netback, a disk's a blkback); null: the built-in one, as above.
    /// </summary>
    public int BackendDomain(string kind, string? backend)
    {
        var serviceKind = kind switch
        {
            "vif" => "netback",
            "vbd" => "blkback",
            _ => throw new ArgumentException($"no backend kind for '{kind}'", nameof(kind)),
        };
        if (backend is null)
        {
            var builtin = Find(serviceKind);
            return builtin is not null && builtin.Status().State != ServiceState.Failed ? builtin.Spec.DomainId : 0;
        }

        SupervisedService? named;
        string? namedKind;
        lock (_services)
        {
            named = _services.FirstOrDefault(s => s.Spec.Name == backend || s.Spec.DomainId.ToString(CultureInfo.InvariantCulture) == backend);
            namedKind = named is null ? null : _kinds.GetValueOrDefault(named.Spec.Name);
        }

        if (named is null)
        {
            throw new ToolstackException($"{kind} backend={backend}: no such service domain on this host (see `disagg service list`; add one with `disagg service add {backend} --kind {serviceKind}`)");
        }

        if (namedKind != serviceKind)
        {
            throw new ToolstackException($"{kind} backend={backend}: service '{named.Spec.Name}' is {(namedKind is null ? "not a driver domain" : "a " + namedKind)}, and a {kind} needs a {serviceKind}");
        }

        return named.Spec.DomainId;
    }

    /// <summary>Each service's latest restart (the dashboard's and /metrics' recovery time).</summary>
    public IReadOnlyDictionary<string, RestartRecord> LastRestarts => _lastRestarts;

    public IReadOnlyList<ServiceRow> List() => [.. Snapshot().Select(s => Row(s.Status()))];

    /// <summary>The process id of a running service; null when it has none (not there, or between a crash and its restart).</summary>
    public int? Pid(string name) => Find(name)?.Status().Pid;

    /// <summary>restart (planned), kill (SIGKILL, seen as a crash), or a signal for fault injection; null when no such service.</summary>
    public string? Act(string name, ServiceAction action)
    {
        var service = Find(name);
        if (service is null)
        {
            return null;
        }

        var pid = service.Status().Pid;
        var (done, what) = action switch
        {
            ServiceAction.Kill => (service.Kill(), "sent SIGKILL"),
            ServiceAction.Stop => (service.Signal(Disagg.Interop.ProcessSignals.Sigstop), "sent SIGSTOP"),
            ServiceAction.Continue => (service.Signal(Disagg.Interop.ProcessSignals.Sigcont), "sent SIGCONT"),
            ServiceAction.Segv => (service.Signal(Disagg.Interop.ProcessSignals.Sigsegv), "sent SIGSEGV"),
            _ => (service.Restart(), "restarting"),
        };
        return done
            ? $"service '{name}' (pid {pid}): {what}"
            : $"service '{name}' has no running process ({service.Status().State.ToString().ToLowerInvariant()})";
    }

    /// <summary>
    /// `disagg fault inject` and fault runs: arms a channel fault in service <paramref name="name"/> through its fault
    /// socket. Refused unless this host was started with --fault-injection; a count of 0 disarms that kind in the service,
    /// or, with no service named, only asks whether the host was started so.
    /// </summary>
    public async Task<string> InjectChannelFaultAsync(string name, ChannelFaultKind kind, int count, int delayMs, CancellationToken cancel)
    {
        if (!config.FaultInjection)
        {
            throw new ToolstackException("this host was started without --fault-injection: it injects no channel faults (its services do not listen for them)");
        }

        if (count == 0 && name.Length == 0)
        {
            return "fault injection is on";
        }

        var service = Find(name) ?? throw new ToolstackException($"no service '{name}' (see `disagg service list`)");
        var status = service.Status();
        if (status.Pid is null || status.State != ServiceState.Running)
        {
            throw new ToolstackException($"service '{name}' has no running process ({status.State.ToString().ToLowerInvariant()})");
        }

        return await ChannelFaultLink.ArmAsync(name, status.Pid, state.FaultSocket(name), kind, count, delayMs, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// `service swap NAME --binary PATH`: the running process is stopped as planned and PATH started under the
    /// same domain id, token, arguments and state dir; the reply waits until the new binary serves.
    /// </summary>
    public async Task<string> SwapAsync(string name, string binary, TimeSpan timeout, CancellationToken cancel)
    {
        var service = Find(name)
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
        var services = Snapshot();
        for (var i = services.Length - 1; i >= 0; i--)
        {
            await services[i].DisposeAsync().ConfigureAwait(false);
            log.ServiceStopped(services[i].Spec.Name);
        }

        lock (_services)
        {
            _services.Clear();
        }
    }

    private IReadOnlyList<string> BuiltinArguments(string name) => Arguments(name, name);

    /// <summary>A service's command line: what its kind needs, with the state dir named after the instance.</summary>
    private IReadOnlyList<string> Arguments(string kind, string name)
    {
        var xenstore = state.ServiceSocket("xenstored");
        var stateDir = state.Combine(name);
        return kind switch
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
