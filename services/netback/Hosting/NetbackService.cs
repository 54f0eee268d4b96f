using System.Diagnostics;
using Disagg.Control;
using Disagg.Interop;
using Disagg.Interop.Net;
using Disagg.Netback.DataPath;
using Disagg.Netback.Status;
using Disagg.Netback.Uplink;
using Disagg.Netback.Xenbus;
using Disagg.Service;
using Disagg.Service.Faults;
using Disagg.Service.Hosting;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Hosting;

/// <summary>
/// netback as the host's one hosted service. Start: open the service channel, start the switching thread, attach
/// the TAP uplinks, connect to xenstored and take up every vif already in xenstore (a restart resumes their
/// rings), print "ready". Then serve until SIGTERM (exit 0), or until the switch stops or xenstored stays away
/// longer than its patience (exit 75: the supervisor restarts us). A restarted xenstored is reconnected to while
/// the switch goes on.
/// </summary>
internal sealed class NetbackService : IHostedService, IServiceExit, IAsyncDisposable
{
    /// <summary>Copy-buffer pages: one per frame of a batch.</summary>
    public const int BufferPages = SwitchLoop.MaxBatch + SwitchLoop.RxBacklogPages;

    public static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long xenstored may be away (restarting) before we give up and exit for a restart of our own.</summary>
    private static readonly TimeSpan XenstorePatience = TimeSpan.FromSeconds(60);

    private readonly NetbackOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private readonly ChannelFaults? _faults;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TapUplink> _uplinks = [];
    private ServiceChannel? _channel;
    private SwitchLoop? _switch;
    private XenbusBackend<VifDevice, FrontendRings>? _backend;
    private Task _background = Task.CompletedTask;
    private int _disposed;

    public NetbackService(NetbackOptions options, IHostApplicationLifetime lifetime, ILoggerFactory loggers, ChannelFaults? faults = null)
    {
        _faults = faults;
        _options = options;
        _lifetime = lifetime;
        _log = loggers.CreateLogger("netback");
    }

    public int ExitCode { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(_options.StateDirectory);
        var environment = _options.KernelSocket is not null
            ? new ServiceEnvironment(_options.KernelSocket, _options.Token!, _options.DomainId!.Value)
            : ServiceEnvironment.FromProcess();
        if (environment is null)
        {
            Log.Unreachable(_log, "the kernel", "no --kernel-socket and no DISAGG_KERNEL_SOCKET/DISAGG_SERVICE_TOKEN/DISAGG_DOMAIN_ID");
            Stop(64); // EX_USAGE
            return;
        }

        try
        {
            _channel = await ServiceChannel.OpenAsync(environment, BufferPages, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException)
        {
            Log.Unreachable(_log, "the kernel at " + environment.KernelSocket, e.Message);
            Stop(69); // EX_UNAVAILABLE: the supervisor retries
            return;
        }

        IBackendChannel kernel = new ServiceBackendChannel(_channel);
        _switch = new SwitchLoop(_faults is null ? kernel : new FaultingBackendChannel(kernel, _faults)); // a normal host: the real channel, nothing in between
        _switch.HoldForwarding(); // until every vif in xenstore is attached (below)
        _switch.Start();
        foreach (var (bridge, tap, mtu) in _options.Uplinks)
        {
            try
            {
                var uplink = new TapUplink(bridge, TapDevice.Open(tap, mtu), mtu);
                await _switch.Submit(new AttachUplink(uplink)).ConfigureAwait(false);
                _uplinks.Add(uplink);
                Log.UplinkAttached(_log, bridge, tap);
            }
            catch (InteropException e)
            {
                Log.Unreachable(_log, "TAP device " + tap, e.Message);
                Stop(71); // EX_OSERR: not root, or no /dev/net/tun
                return;
            }
        }

        try
        {
            _backend = await XenbusBackend<VifDevice, FrontendRings>.StartAsync(_options.XenstoreSocket, XenstorePatience, environment.DomainId, new VifDriver(_channel, _switch, _log), _log, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or XenstoreException)
        {
            Log.Unreachable(_log, "xenstored at " + _options.XenstoreSocket, e.Message);
            Stop(69);
            return;
        }

        await _switch.Submit(new StartForwarding()).ConfigureAwait(false); // every vif xenstore names is attached: resumed rings' frames can go
        var faults = Task.Run(() => ForwardFaultsAsync(_switch, _backend, _stop.Token), CancellationToken.None);
        var status = Task.Run(() => WriteStatusAsync(_options.StateDirectory, _switch, _backend, _uplinks, _log, _stop.Token), CancellationToken.None);
        var failure = WatchFailuresAsync(_switch, _backend);
        _background = Task.WhenAll(faults, status, failure);
        Log.Started(_log, _backend.Devices.Count, _uplinks.Count, environment.DomainId, clock.ElapsedMilliseconds);
        Console.Out.WriteLine($"ready domain={environment.DomainId} state-dir={_options.StateDirectory}");
        Console.Out.Flush();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _background.ConfigureAwait(false);
        if (ExitCode == 0 && _backend is not null)
        {
            // Planned stop: the rings are let go, frontends keep their state; a successor resumes them (docs/NETBACK.md).
            await _backend.DisposeAsync().ConfigureAwait(false);
            _backend = null;
        }
    }

    /// <summary>Once: the container disposes us both as ourselves and as the hosted service it was handed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _switch?.Dispose();
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private void Stop(int exitCode)
    {
        ExitCode = exitCode;
        _lifetime.StopApplication();
    }

    /// <summary>The switch stopping or xenstored staying away ends the process with 75, so the supervisor restarts us.</summary>
    private async Task WatchFailuresAsync(SwitchLoop sw, XenbusBackend<VifDevice, FrontendRings> backend)
    {
        var done = await Task.WhenAny(backend.Completion, sw.Stopped, Task.Delay(Timeout.Infinite, _stop.Token)).ConfigureAwait(false);
        if (done == sw.Stopped)
        {
            Log.SwitchStopped(_log, sw.Failure?.Message ?? "stopped");
            Stop(75); // EX_TEMPFAIL: restart us
        }
        else if (done == backend.Completion)
        {
            Log.XenstoreGone(_log, XenstorePatience.TotalSeconds, backend.Completion.Exception?.GetBaseException().Message ?? "control task ended");
            Stop(75);
        }
    }

    /// <summary>A ring fault found by the switching thread becomes an event of the backend's control task.</summary>
    private static async Task ForwardFaultsAsync(SwitchLoop sw, XenbusBackend<VifDevice, FrontendRings> backend, CancellationToken cancel)
    {
        try
        {
            await foreach (var vif in sw.Faults.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                backend.ReportFault(vif.Id.Domain, vif.Id.Device);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// DIR/status when something changed, at most every <see cref="StatusInterval"/> (an idle netback writes nothing):
    /// a full disk or a read-only state directory costs the status file, never switching.
    /// </summary>
    private static Task WriteStatusAsync(string stateDirectory, SwitchLoop sw, XenbusBackend<VifDevice, FrontendRings> backend, IReadOnlyList<TapUplink> uplinks, ILogger log, CancellationToken cancel)
    {
        var failing = false;
        return sw.Changes.WriteOnChangeAsync(
            () =>
            {
                try
                {
                    StatusFile.Write(stateDirectory, sw, backend.Devices, uplinks);
                    failing = false;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (!failing)
                    {
                        Log.StatusWriteFailed(log, stateDirectory, e.Message);
                        failing = true;
                    }
                }
            },
            StatusInterval,
            cancel);
    }
}
