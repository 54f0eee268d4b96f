using System.Globalization;
using System.Threading.Channels;
using Disagg.Abi.Io;
using Disagg.Blkback.DataPath;
using Disagg.DiskImage;
using Disagg.Blkback.Hosting;
using Disagg.Control;
using Disagg.Xenbus;
using Microsoft.Extensions.Logging;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// The xenbus side of every device: watches /local/domain/SELF/backend/vbd and each frontend's state node and
/// walks the handshake (spec §7) one event at a time on one task, so device records need no locks. Data moves
/// in <see cref="IoLoop"/>; this side only hands it connected rings and takes them back.
/// </summary>
/// <remarks>
/// Restart (ARCHITECTURE §6): on start every device directory is read back from xenstore, features published
/// again and every state set to InitWait; a frontend that was Connected reconnects with a freshly initialised
/// ring and re-issues what had no response. An old ring is never resumed from its indices: its unanswered slots
/// may hold responses the killed process wrote but did not publish (docs/BLKBACK.md, Recovery).
/// </remarks>
internal sealed partial class VbdBackend : IAsyncDisposable
{
    private const string RootToken = "vbd-root";
    private const string FrontendToken = "vbd-frontend";
    private static readonly TimeSpan XenstorePatience = TimeSpan.FromSeconds(60);

    private readonly string _xenstoreSocket;
    private readonly int _domainId;
    private readonly string _root;
    private readonly IFrontendLinks _links;
    private readonly IoLoop _loop;
    private readonly ILogger _log;
    private readonly Channel<ControlEvent> _events = Channel.CreateUnbounded<ControlEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<(int Frontend, int Device), Vbd> _devices = [];
    private readonly Dictionary<string, (int Frontend, int Device)> _byFrontendState = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private XenstoreClient _xs = null!;
    private Task _control = Task.CompletedTask;
    private volatile IReadOnlyList<VbdSnapshot> _published = [];

    private VbdBackend(string xenstoreSocket, int domainId, IFrontendLinks links, IoLoop loop, ILogger log)
    {
        _xenstoreSocket = xenstoreSocket;
        _domainId = domainId;
        _root = XenbusPaths.BackendRoot(domainId, "vbd");
        _links = links;
        _loop = loop;
        _log = log;
    }

    public int DeviceCount => _published.Count;

    /// <summary>
    /// Every device as of the control task's last event, for any thread: the device table itself belongs to the
    /// control task (a Dictionary changed under an enumeration from another thread can throw or loop).
    /// </summary>
    public IReadOnlyList<VbdSnapshot> Devices => _published;

    /// <summary>Connected devices' rings, for counters (read from other threads: from <see cref="Devices"/>).</summary>
    public IReadOnlyList<VbdRing> Rings => [.. _published.Select(d => d.Ring).OfType<VbdRing>()];

    /// <summary>Completes (with the failure, if any) when the control task ends.</summary>
    public Task Completion => _control;

    /// <summary>Connects to xenstored, rebuilds every device already in xenstore, then follows changes. Returns once the rebuild is done.</summary>
    public static async Task<VbdBackend> StartAsync(string xenstoreSocket, int domainId, IFrontendLinks links, IoLoop loop, ILogger log, CancellationToken cancel)
    {
        var backend = new VbdBackend(xenstoreSocket, domainId, links, loop, log);
        await backend.ConnectXenstoreAsync(cancel).ConfigureAwait(false);
        backend._control = Task.Run(backend.ControlLoopAsync, CancellationToken.None);
        await backend._ready.Task.WaitAsync(cancel).ConfigureAwait(false);
        return backend;
    }

    /// <summary>I/O loop thread: a frontend wrote garbage ring indices; the device is disconnected on the control task.</summary>
    public void OnFaulted(VbdRing ring) => _events.Writer.TryWrite(new ControlEvent(null, ring, false));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        try
        {
            await _control.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var vbd in _devices.Values)
        {
            await DisconnectAsync(vbd).ConfigureAwait(false);
            vbd.Image?.Dispose();
        }

        await _xs.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task ConnectXenstoreAsync(CancellationToken cancel)
    {
        _xs = await XenstoreClient.ConnectWithRetryAsync(_xenstoreSocket, XenstorePatience, cancel).ConfigureAwait(false);
        await _xs.WatchAsync(_root, RootToken, cancel).ConfigureAwait(false);
        var xs = _xs;
        _ = Task.Run(async () =>
        {
            await foreach (var e in xs.WatchEvents.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                _events.Writer.TryWrite(new ControlEvent(e.Path, null, false));
            }

            _events.Writer.TryWrite(new ControlEvent(null, null, true)); // xenstored went: reconnect
        }, CancellationToken.None);
    }

    private async Task ControlLoopAsync()
    {
        var cancel = _stop.Token;
        try
        {
            await ReconcileAllAsync(cancel).ConfigureAwait(false);
            Publish();
            _ready.TrySetResult();
            await foreach (var e in _events.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(e, cancel).ConfigureAwait(false);
                }
                catch (IOException) when (_xs.Closed.IsCompleted && !cancel.IsCancellationRequested)
                {
                    // xenstored died under a request; the pump's "lost" event follows and reconnects
                }

                Publish();
            }
        }
        catch (Exception e) when (!_ready.Task.IsCompleted)
        {
            _ready.TrySetException(e);
            throw;
        }
    }

    /// <summary>Control task: the device table as it stands after an event, for readers on other threads.</summary>
    private void Publish() =>
        _published = [.. _devices.Values.Select(d => new VbdSnapshot(d.FrontendDomain, d.DeviceId, d.Config, d.Ring, d.Ring?.Counters ?? d.LastCounters))];

    private async Task HandleAsync(ControlEvent e, CancellationToken cancel)
    {
        if (e.XenstoreLost)
        {
            Log.XenstoreLost(_log);
            await _xs.DisposeAsync().ConfigureAwait(false);
            foreach (var vbd in _devices.Values)
            {
                vbd.WatchedFrontend = null; // watches go with the connection
            }

            _byFrontendState.Clear();
            await ConnectXenstoreAsync(cancel).ConfigureAwait(false);
            await ReconcileAllAsync(cancel).ConfigureAwait(false);
            Log.XenstoreBack(_log, _devices.Count);
            return;
        }

        if (e.Faulted is { } ring)
        {
            foreach (var vbd in _devices.Values)
            {
                if (vbd.Ring == ring)
                {
                    Log.RingFaulted(_log, vbd.FrontendDomain, vbd.DeviceId, ring.FaultReason ?? "fault");
                    await DisconnectAsync(vbd).ConfigureAwait(false);
                    await SetErrorAsync(vbd, "ring: " + ring.FaultReason, cancel).ConfigureAwait(false);
                    await WriteStateAsync(vbd, XenbusState.Closed, cancel).ConfigureAwait(false);
                }
            }

            return;
        }

        var path = e.Path!;
        if (_byFrontendState.TryGetValue(path, out var fe))
        {
            await ReconcileAsync(fe.Frontend, fe.Device, cancel).ConfigureAwait(false);
            return;
        }

        if (path == _root)
        {
            await ReconcileAllAsync(cancel).ConfigureAwait(false);
            return;
        }

        if (!XenbusPaths.TryParseBackend(path, _domainId, "vbd", out var frontend, out var device))
        {
            if (path.StartsWith(_root + "/", StringComparison.Ordinal))
            {
                await ReconcileAllAsync(cancel).ConfigureAwait(false); // a frontend domain's whole directory went
            }

            return;
        }

        var leaf = path[(path.LastIndexOf('/') + 1)..];
        var depth = path.AsSpan(_root.Length).Count('/');
        if (depth > 2 && leaf != "state" && VbdKeys.Ours.Contains(leaf))
        {
            return; // the echo of our own write
        }

        await ReconcileAsync(frontend, device, cancel).ConfigureAwait(false);
    }

    private async Task ReconcileAllAsync(CancellationToken cancel)
    {
        var seen = new HashSet<(int, int)>();
        foreach (var fe in await _xs.DirectoryAsync(XenstoreClient.NoTransaction, _root, cancel).ConfigureAwait(false))
        {
            if (!int.TryParse(fe, NumberStyles.None, CultureInfo.InvariantCulture, out var frontend))
            {
                continue;
            }

            foreach (var dev in await _xs.DirectoryAsync(XenstoreClient.NoTransaction, $"{_root}/{fe}", cancel).ConfigureAwait(false))
            {
                if (int.TryParse(dev, NumberStyles.None, CultureInfo.InvariantCulture, out var device))
                {
                    seen.Add((frontend, device));
                    await ReconcileAsync(frontend, device, cancel).ConfigureAwait(false);
                }
            }
        }

        foreach (var key in _devices.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            await ReconcileAsync(key.Frontend, key.Device, cancel).ConfigureAwait(false);
        }
    }

    private readonly record struct ControlEvent(string? Path, VbdRing? Faulted, bool XenstoreLost);
}
