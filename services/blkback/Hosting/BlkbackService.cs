using System.Diagnostics;
using Disagg.Blkback.DataPath;
using Disagg.Blkback.Status;
using Disagg.Blkback.Xenbus;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.Service.Faults;
using Disagg.Service.Hosting;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Blkback.Hosting;

/// <summary>
/// blkback as the host's one hosted service. Start: take the state directory's lock (one blkback per host), open
/// the kernel channel, start the I/O loop, rebuild every device from xenstore (re-connecting rings that frontends
/// still use), print "ready domain=N devices=M"; then serve until SIGTERM. Exit codes: 0 stopped, 2 no kernel
/// channel in the environment, 69 kernel or xenstored unreachable, 73 another blkback holds the state directory,
/// 75 the kernel connection, xenstored or the I/O loop failed (the supervisor restarts us; frontends lose nothing, §6).
/// </summary>
internal sealed class BlkbackService : IHostedService, IServiceExit, IAsyncDisposable
{
    /// <summary>How long xenstored may be away (at start, or restarting) before we give up and exit.</summary>
    private static readonly TimeSpan XenstorePatience = TimeSpan.FromSeconds(60);

    private readonly BlkbackOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private readonly ChannelFaults? _faults;
    private readonly CancellationTokenSource _stop = new();
    private FileStream? _instance;
    private ServiceChannel? _channel;
    private IoLoop? _loop;
    private XenbusBackend<Vbd, VbdRingKeys>? _backend;
    private Task _background = Task.CompletedTask;
    private int _disposed;

    public BlkbackService(BlkbackOptions options, IHostApplicationLifetime lifetime, ILoggerFactory loggers, ChannelFaults? faults = null)
    {
        _faults = faults;
        _options = options;
        _lifetime = lifetime;
        _log = loggers.CreateLogger("blkback");
    }

    public int ExitCode { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var startCancelled = cancellationToken.Register(() => _stop.Cancel()); // SIGTERM while starting
        var environment = ServiceEnvironment.FromProcess();
        if (environment is null)
        {
            Log.CannotStart(_log, "no kernel channel in the environment (DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID)");
            Stop(2);
            return;
        }

        Directory.CreateDirectory(_options.StateDirectory);
        try
        {
            // FileShare.None is flock(LOCK_EX): a second blkback on the same host would fight over every ring.
            _instance = new FileStream(Path.Combine(_options.StateDirectory, "blkback.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            Log.CannotStart(_log, $"another blkback holds {_options.StateDirectory}: {e.Message}");
            Stop(73);
            return;
        }

        try
        {
            _channel = await ServiceChannel.OpenAsync(environment, _options.BufferPages).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            await _channel.Kernel.CallAsync<OkReply>(new Subscribe()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Log.CannotStart(_log, $"kernel at {environment.KernelSocket}: {e.Message}");
            Stop(69);
            return;
        }

        var channel = _channel;
        IBackendChannel backendChannel = new ServiceBackendChannel(channel);
        _loop = new IoLoop(
            _faults is null ? backendChannel : new FaultingBackendChannel(backendChannel, _faults), // a normal host: the real channel, nothing in between
            _options.MaxIndirectSegments,
            ring => _backend?.ReportFault(ring.FrontendDomain, ring.DeviceId),
            e =>
            {
                Log.LoopFailed(_log, e);
                Stop(75);
            });
        Log.ChannelOpen(_log, channel.DomainId, _loop.Slots, _loop.SlotPages, _loop.MaxIndirectSegments);
        _loop.Start();
        var kernel = WatchKernelAsync(channel);

        try
        {
            var driver = new VbdDriver(new ChannelFrontendLinks(channel), _loop, _log, _faults);
            _backend = await XenbusBackend<Vbd, VbdRingKeys>.StartAsync(_options.XenstoreSocket, XenstorePatience, channel.DomainId, driver, _log, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or Disagg.Xenbus.XenstoreException or OperationCanceledException)
        {
            Log.CannotStart(_log, $"xenstored at {_options.XenstoreSocket}: {e.Message}");
            if (ExitCode == 0 && !cancellationToken.IsCancellationRequested)
            {
                Stop(69);
            }

            _background = kernel;
            return;
        }

        var status = Task.Run(() => WriteStatusAsync(_options.StateDirectory, _loop, _backend, _log, _stop.Token), CancellationToken.None);
        _background = Task.WhenAll(kernel, status, WatchXenstoreAsync(_backend));
        Log.Serving(_log, _backend.Devices.Count, clock.ElapsedMilliseconds);
        Console.Out.WriteLine($"ready domain={channel.DomainId} devices={_backend.Devices.Count}");
        Console.Out.Flush();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false); // the control task may have ended on its own
        await _background.ConfigureAwait(false);
        if (_backend is null)
        {
            return;
        }

        var rings = _backend.Devices.Select(d => d.Ring).OfType<VbdRing>().ToList();
        Log.Stopping(_log, rings.Sum(r => r.Counters.Requests), rings.Sum(r => r.Counters.Refused), rings.Sum(r => r.Counters.CopyFailures), rings.Sum(r => r.Counters.IoFailures));
        if (ExitCode == 0)
        {
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

        _loop?.Dispose();
        if (_channel is not null)
        {
            await _channel.DisposeAsync().ConfigureAwait(false);
        }

        if (_instance is not null)
        {
            await _instance.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>The first failure decides the exit code; the host then stops us.</summary>
    private void Stop(int exitCode)
    {
        if (ExitCode == 0)
        {
            ExitCode = exitCode;
        }

        _stop.Cancel();
        _lifetime.StopApplication();
    }

    /// <summary>The backend's control task ends on its own only when xenstored stayed away past its patience.</summary>
    private async Task WatchXenstoreAsync(XenbusBackend<Vbd, VbdRingKeys> backend)
    {
        try
        {
            await backend.Completion.WaitAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or Disagg.Xenbus.XenstoreException)
        {
            Log.XenstoreGone(_log, XenstorePatience.TotalSeconds, e.Message);
            Stop(75); // the supervisor restarts us; frontends reconnect from InitWait
        }
    }

    /// <summary>
    /// DIR/status now, then after each change at most every <see cref="StatusFile.Interval"/> (an idle blkback writes
    /// nothing) until stopped: on its own task, so it keeps showing the counters while the control task waits (a
    /// detach waits for the loop to answer what is in flight).
    /// </summary>
    private static Task WriteStatusAsync(string stateDirectory, IoLoop loop, XenbusBackend<Vbd, VbdRingKeys> backend, ILogger log, CancellationToken cancel)
    {
        var failing = false;
        return loop.Changes.WriteOnChangeAsync(
            () =>
            {
                try
                {
                    StatusFile.Write(stateDirectory, loop, backend.Devices);
                    failing = false;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    if (!failing)
                    {
                        Log.StatusFailed(log, Path.Combine(stateDirectory, "status"), e.Message);
                    }

                    failing = true;
                }
            },
            StatusFile.Interval,
            cancel);
    }

    /// <summary>The kernel's event stream ends when its connection does: a planned stop, or a lost kernel (75).</summary>
    private async Task WatchKernelAsync(ServiceChannel channel)
    {
        try
        {
            await foreach (var e in channel.Kernel.Events.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                _ = e; // domain deaths: their device directories are removed by the toolstack, which we follow
            }
        }
        catch (KernelConnectionLostException)
        {
        }
        catch (OperationCanceledException)
        {
            return; // stopping
        }

        Log.KernelLost(_log);
        Stop(75);
    }
}
