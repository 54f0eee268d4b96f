using Disagg.Control;
using Disagg.Interop;
using Disagg.Service;
using Disagg.Service.Hosting;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Transport.Ring;
using Disagg.Xenstored.Transport.Socket;
using Disagg.Xenstored.Watches;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// The server as a hosted service. Start: with the kernel, release the domains that no longer exist, then
/// re-create introduced domains' connections with their watches (re-mapping and re-binding each one's ring),
/// then serve the socket and the rings from one event loop, and print "ready socket=PATH" once clients can
/// connect. Stop (SIGTERM, SIGINT, a lost kernel, a failed loop): drain the loop and close the rings.
/// Exit codes are the supervisor's: 69 kernel unreachable, 70 our own loop failed, 75 the kernel went.
/// </summary>
public sealed class XenstoredServer : IHostedService, IServiceExit, IDisposable
{
    private readonly XenstoredOptions _options;
    private readonly XenstoreState _state;
    private readonly RestoredStore _restored;
    private readonly StoreLoop _loop;
    private readonly GuestConnections _guests;
    private readonly XsRequestProcessor _processor;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private EpollReactor? _reactor;
    private KernelRingSource? _kernel;
    private RingHandoffListener? _handoff;
    private SocketListener? _listener;

    public XenstoredServer(XenstoredOptions options, XenstoreState state, RestoredStore restored, StoreLoop loop, GuestConnections guests,
        XsRequestProcessor processor, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        _options = options;
        _state = state;
        _restored = restored;
        _loop = loop;
        _guests = guests;
        _processor = processor;
        _lifetime = lifetime;
        _log = loggers.CreateLogger("xenstored");
    }

    /// <summary>What the process exits with once the host has stopped.</summary>
    public int ExitCode { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Guests' rings through the kernel when we know where it is (flags, or the host daemon's environment).
        var environment = _options.KernelSocket is not null
            ? new ServiceEnvironment(_options.KernelSocket, _options.Token!, -1)
            : _options.RingHandoff is null ? ServiceEnvironment.FromProcess() : null;
        if (environment is not null)
        {
            try
            {
                _kernel = OpenKernel(environment);
            }
            catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                Log.KernelUnreachable(_log, environment.KernelSocket, e);
                Stop(69); // EX_UNAVAILABLE: the supervisor retries
                return Task.CompletedTask;
            }

            _restored.Journal.Sync(); // releases of domains that went while we were down
            _guests.Source = _kernel;
        }

        var restoredWatches = 0;
        foreach (var domain in _state.Domains.Values)
        {
            var conn = _guests.Attach(domain);
            conn.OutlivedRestart = true;
            foreach (var w in _restored.Applier.Watches.GetValueOrDefault(domain.DomainId) ?? [])
            {
                _state.Watches.Add(new Watch(conn, w.Path, w.Token, w.Relative));
                restoredWatches++;
            }
        }

        var replay = _restored.Replay;
        Log.Loaded(_log, _state.Tree.Count, _state.Domains.Count, restoredWatches, _restored.SnapshotSequence, replay.Applied, replay.Skipped,
            replay.DroppedBytes, (long)_restored.LoadTime.TotalMilliseconds);

        _reactor = new EpollReactor("xenstored-events");
        if (_options.RingHandoff is not null)
        {
            _handoff = new RingHandoffListener(_options.RingHandoff, _reactor,
                domid => _loop.Invoke(() => _guests.RingArrived(domid, _state.Domains.GetValueOrDefault(domid))));
            _guests.Source = _handoff;
            _ = _handoff.AcceptLoopAsync();
        }

        _listener = new SocketListener(_options.Socket, _loop);
        _listener.Dropped += c => Log.Dropped(_log, c.Name, c.DropReason ?? "closed");
        _loop.Start();
        _kernel?.Start(_reactor);
        _ = _listener.AcceptLoopAsync();
        _ = _loop.Completion.ContinueWith(_ => _lifetime.StopApplication(), TaskScheduler.Default);

        Log.Serving(_log, _options.Socket);
        Console.Out.WriteLine($"ready socket={_options.Socket}");
        Console.Out.Flush();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return Task.CompletedTask; // never started serving
        }

        _loop.Stop();
        try
        {
            _loop.Completion.Wait(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (AggregateException e)
        {
            Log.LoopFailed(_log, e.InnerException ?? e);
            ExitCode = 70;
            return Task.CompletedTask;
        }

        Log.Stopping(_log, _processor.Requests, _loop.Batches, _restored.Journal.Writes, _restored.Journal.Syncs, _loop.Compactions);
        _handoff?.Dispose();
        _kernel?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5), CancellationToken.None);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _reactor?.Dispose();
    }

    private void Stop(int exitCode)
    {
        ExitCode = exitCode;
        _lifetime.StopApplication();
    }

    /// <summary>
    /// Opens our service channel, follows domain deaths, and releases the introduced domains that are gone
    /// (after a restart: destroyed while we were down) before anything is attached. Before the loop starts.
    /// </summary>
    private KernelRingSource OpenKernel(ServiceEnvironment environment)
    {
        var timeout = TimeSpan.FromSeconds(20);
        var kernel = KernelRingSource.OpenAsync(environment.KernelSocket, environment.Token, _loop, _log).WaitAsync(timeout).GetAwaiter().GetResult();
        kernel.SubscribeAsync(
            dying => _loop.Invoke(() =>
            {
                if (_processor.ReleaseVanished(dying))
                {
                    Log.DomainVanished(_log, dying);
                }
            }),
            error =>
            {
                Log.KernelLost(_log, error);
                Stop(75); // EX_TEMPFAIL: restarted once the kernel is back
            }).WaitAsync(timeout).GetAwaiter().GetResult();
        var live = kernel.ListDomainsAsync().WaitAsync(timeout).GetAwaiter().GetResult();
        var vanished = 0;
        foreach (var id in _state.Domains.Keys.Where(id => !live.Contains(id)).ToArray())
        {
            _processor.ReleaseVanished(id);
            Log.DomainVanished(_log, id);
            vanished++;
        }

        Log.KernelChannelOpen(_log, kernel.DomainId, live.Count, vanished);
        return kernel;
    }
}
