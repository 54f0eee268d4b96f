using System.Globalization;
using System.Runtime.InteropServices;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Protocol;
using Microsoft.Extensions.Logging;

namespace Disagg.Toolstack.Host;

/// <summary>
/// The control domain's daemon for one host (one state dir): starts the kernel, then the
/// service domains, then serves the CLI; goes down in the reverse order, guests first, and
/// leaves no process, socket or pid file behind.
/// </summary>
internal sealed class HostDaemon(StateDir state, HostConfig config, ILoggerFactory loggers)
{
    private readonly DaemonLog _log = new(loggers.CreateLogger("disagg"));
    private readonly TaskCompletionSource<string> _down = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startedMs = Environment.TickCount64;
    private KernelChild? _kernel;
    private KernelClient? _client;
    private ServiceDomains? _services;
    private ConsoleHub? _consoles;
    private GuestDomains? _guests;
    private GuestDevices? _devices;
    private volatile string? _kernelDeath;
    private volatile bool _stopping;

    public StateDir State => state;

    public DaemonLog Log => _log;

    public ServiceDomains Services => _services ?? throw new ToolstackException("the host is still starting");

    public ConsoleHub Consoles => _consoles ?? throw new ToolstackException("the host is still starting");

    /// <summary>The guests, or a plain error when the kernel is gone (and the guests with it).</summary>
    public GuestDomains Guests => _kernelDeath is { } death
        ? throw new ToolstackException($"the kernel {death}; start a new host with `disagg host down` then `disagg host up`")
        : _guests ?? throw new ToolstackException("the host is still starting");

    public GuestDevices Devices => _kernelDeath is { } death
        ? throw new ToolstackException($"the kernel {death}; start a new host with `disagg host down` then `disagg host up`")
        : _devices ?? throw new ToolstackException("the host is still starting");

    public KernelClient Kernel => _kernelDeath is { } death
        ? throw new ToolstackException($"the kernel {death}")
        : _client ?? throw new ToolstackException("the host is still starting");

    public void RequestDown(string reason) => _down.TrySetResult(reason);

    public HostStatusReply Status() => new(
        state.Path,
        Environment.ProcessId,
        _kernel?.Pid,
        _kernelDeath is { } d ? d : _kernel is null ? "starting" : "running",
        state.KernelSocket,
        state.DaemonSocket,
        Environment.TickCount64 - _startedMs,
        _guests?.Count ?? 0,
        _services?.List() ?? []);

    public async Task<InfoReply> InfoAsync(CancellationToken cancel)
    {
        var info = await Kernel.CallAsync<HostInfo>(new GetHostInfo(), cancel).ConfigureAwait(false);
        var sockets = new Dictionary<string, string> { ["toolstack"] = state.DaemonSocket, ["kernel"] = state.KernelSocket };
        foreach (var (name, path) in Services.Sockets)
        {
            sockets[name] = path;
        }

        return new InfoReply(
            info.Pcpus,
            info.TotalMemoryKiB / 1024,
            info.FreeMemoryKiB / 1024,
            info.KernelVersion,
            info.XenInterface,
            typeof(HostDaemon).Assembly.GetName().Version?.ToString() ?? "0",
            info.UptimeNs / 1_000_000,
            state.Path,
            sockets);
    }

    /// <summary>Runs the host until `host down`, SIGTERM or SIGINT. <paramref name="ready"/> is called once the CLI socket serves.</summary>
    public async Task<int> RunAsync(Action ready)
    {
        Directory.CreateDirectory(state.Path);
        File.SetUnixFileMode(state.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (PidFile.ReadLive(state.PidFile) is { } other && other != Environment.ProcessId)
        {
            throw new ToolstackException($"a host is already up in {state.Path} (daemon pid {other})");
        }

        File.WriteAllText(state.PidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; RequestDown("SIGTERM"); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; RequestDown("SIGINT"); });
        DaemonServer? server = null;
        Task events = Task.CompletedTask;
        Task watcher = Task.CompletedTask;
        using var stop = new CancellationTokenSource();
        try
        {
            var program = Path.Combine(AppContext.BaseDirectory, "disagg-kernel");
            _kernel = await KernelChild.StartAsync(program, state.KernelSocket, config.Pcpus, config.Memory, state.KernelLog, stop.Token).ConfigureAwait(false);
            _log.KernelReady(_kernel.Pid, _kernel.Socket);
            _client = await KernelClient.ConnectAsync(_kernel.Socket, _kernel.Token, stop.Token).ConfigureAwait(false);
            await _client.CallAsync<Control.Messages.OkReply>(new Subscribe(), stop.Token).ConfigureAwait(false);
            var info = await _client.CallAsync<HostInfo>(new GetHostInfo(), stop.Token).ConfigureAwait(false);
            _consoles = new ConsoleHub(state, _log);
            _services = new ServiceDomains(state, _log);
            var xenstore = new Xenstore.XenstoreDomains(state.ServiceSocket("xenstored"), () => _services.XenstoreDomain != 0, _services.BackendDomain, _log);
            _guests = new GuestDomains(_client, _consoles, xenstore, _log, info.Pcpus, () => _services.XenstoreDomain);
            _devices = new GuestDevices(_guests, xenstore);
            await _consoles.StartAsync(_client, _kernel.Socket, _kernel.Token, stop.Token).ConfigureAwait(false);
            watcher = WatchKernelAsync(_kernel);
            events = FollowEventsAsync(_client, _guests, stop.Token);
            await _services.StartAsync(config, _client, _kernel.Socket, stop.Token).ConfigureAwait(false);
            server = new DaemonServer(state.DaemonSocket, c => DaemonSession.RunAsync(this, c), _log);
            server.Start();
            _log.HostReady(state.Path, state.DaemonSocket);
            ready();
            var reason = await _down.Task.ConfigureAwait(false);
            _log.HostGoingDown(reason);
        }
        finally
        {
            _stopping = true;
            await TearDownAsync(stop, server, events, watcher).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Guests, consoles, services, kernel, socket, in that order; each step runs even when one before it failed.</summary>
    private async Task TearDownAsync(CancellationTokenSource stop, DaemonServer? server, Task events, Task watcher)
    {
        if (_guests is not null && _kernelDeath is null)
        {
            await Step(() => _guests.ShutdownAllAsync(TimeSpan.FromSeconds(config.ShutdownTimeoutSeconds))).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Step(async () => await (_consoles?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await Step(async () => await (_services?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await Step(async () => await (_client?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Step(async () => await (_kernel?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Step(async () => await (server?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        foreach (var leftover in new[] { state.KernelSocket, state.DaemonSocket, state.PidFile })
        {
            File.Delete(leftover);
        }

        foreach (var (name, _) in ServiceDomains.Builtin)
        {
            File.Delete(state.ServiceSocket(name));
        }

        _log.HostDown();
    }

    /// <summary>One teardown step: a failure is logged with its stack, and the next step still runs.</summary>
    private async Task Step(Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.RequestFailed("teardown", e);
        }
    }

    private static async Task FollowEventsAsync(KernelClient client, GuestDomains guests, CancellationToken cancel)
    {
        try
        {
            await foreach (var e in client.Events.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                await guests.OnDomainEventAsync(e, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or KernelConnectionLostException)
        {
            // the host is going down, or the kernel died (WatchKernelAsync says so)
        }
    }

    private async Task WatchKernelAsync(KernelChild kernel)
    {
        await kernel.Exited.ConfigureAwait(false);
        if (_stopping)
        {
            return;
        }

        var cause = kernel.ExitDescription;
        _kernelDeath = $"(pid {kernel.Pid}) died at {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss}: {cause}; every guest died with it";
        _log.KernelDied(kernel.Pid, cause);
        _guests?.KernelDied(cause);
    }
}
