using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenbus.Backend;

/// <summary>
/// The xenbus backend life cycle for every device of one type that this domain serves (spec §7): watches
/// /local/domain/OWN/backend/TYPE and each frontend's state node, and walks each device's handshake
/// (<see cref="DeviceHandshake{TDevice, TConnection}"/>) one event at a time on one control task, so device
/// records need no locks and duplicate or coalesced watch events are harmless (every event re-reads the
/// device's state). The service supplies only its device (<see cref="IXenbusDriver{TDevice, TConnection}"/>).
/// </summary>
/// <remarks>
/// Restart (ARCHITECTURE §6): at start every device directory is read back, features published again and
/// InitWait written; then the <see cref="RestartRule"/> decides whether a Connected frontend is resumed or waits
/// to reconnect. When xenstored goes, the data path goes on: this reconnects (for up to the patience given),
/// registers its watches again and reconciles every device; connected rings stay as they are.
/// </remarks>
public sealed class XenbusBackend<TDevice, TConnection> : IAsyncDisposable
    where TDevice : class
    where TConnection : IEquatable<TConnection>
{
    private const string RootToken = "backend-root";
    private readonly string _xenstoreSocket;
    private readonly TimeSpan _patience;
    private readonly int _ownDomain;
    private readonly IXenbusDriver<TDevice, TConnection> _driver;
    private readonly ILogger _log;
    private readonly Channel<ControlEvent> _events = Channel.CreateUnbounded<ControlEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<(int Frontend, int Device), DeviceHandshake<TDevice, TConnection>> _devices = [];
    private readonly CancellationTokenSource _stop = new();
    private XenstoreClient _xs = null!;
    private Task _control = Task.CompletedTask;
    private volatile TDevice[] _published = [];

    private XenbusBackend(string xenstoreSocket, TimeSpan patience, int ownDomain, IXenbusDriver<TDevice, TConnection> driver, ILogger log)
    {
        _xenstoreSocket = xenstoreSocket;
        _patience = patience;
        _ownDomain = ownDomain;
        _driver = driver;
        _log = log;
        Root = XenbusPaths.BackendRoot(ownDomain, driver.DeviceType);
    }

    /// <summary>/local/domain/OWN/backend/TYPE.</summary>
    public string Root { get; }

    /// <summary>
    /// Every set-up device as of the control task's last event, for any thread (status files): the table itself
    /// belongs to the control task (a Dictionary changed under an enumeration from another thread can throw).
    /// </summary>
    public IReadOnlyList<TDevice> Devices => _published;

    /// <summary>Completes when the control task ends: stopped, or xenstored did not come back within the patience (faulted).</summary>
    public Task Completion => _control;

    /// <summary>
    /// Connects to xenstored (retrying for up to <paramref name="patience"/>), takes up every device already in
    /// xenstore (a restart), sets the watch and follows changes. Returns once every device found is reconciled.
    /// </summary>
    public static async Task<XenbusBackend<TDevice, TConnection>> StartAsync(string xenstoreSocket, TimeSpan patience, int ownDomain, IXenbusDriver<TDevice, TConnection> driver, ILogger log, CancellationToken cancel)
    {
        var backend = new XenbusBackend<TDevice, TConnection>(xenstoreSocket, patience, ownDomain, driver, log);
        await backend.ConnectAndReconcileAsync(cancel).ConfigureAwait(false);
        backend.Publish();
        backend._control = Task.Run(backend.ControlLoopAsync, CancellationToken.None);
        return backend;
    }

    /// <summary>Any thread (the data path): a ring of the device may have faulted; checked on the control task.</summary>
    public void ReportFault(int frontendDomain, int deviceId) => _events.Writer.TryWrite(new ControlEvent(null, null, (frontendDomain, deviceId), null));

    /// <summary>A planned stop: every ring is let go, xenstore is left as it is (frontends keep their state; a successor takes over).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        try
        {
            await _control.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // stopping, or xenstored already gone: nothing to report to anyone
        }

        foreach (var d in _devices.Values)
        {
            await d.ReleaseAsync().ConfigureAwait(false);
            if (d.Device is { } device)
            {
                await _driver.ForgetAsync(device).ConfigureAwait(false);
            }
        }

        await _xs.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>
    /// Connects, watches and reconciles every device; a xenstored that goes again meanwhile (a chaos run kills it
    /// every few seconds) is connected to again, for up to the patience in all. Before, a backend starting while
    /// xenstored restarted exited (69) before it served, and the supervisor counted that as a crash loop.
    /// </summary>
    private async Task ConnectAndReconcileAsync(CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + _patience;
        while (true)
        {
            try
            {
                await ConnectXenstoreAsync(deadline - DateTime.UtcNow, cancel).ConfigureAwait(false);
                await ReconcileAllAsync(cancel).ConfigureAwait(false);
                return;
            }
            catch (IOException e) when (!cancel.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                BackendLog.XenstoreWentAgain(_log, _driver.DeviceType, e.Message);
                if (_xs is { } lost)
                {
                    await lost.DisposeAsync().ConfigureAwait(false);
                }

                foreach (var d in _devices.Values)
                {
                    d.WatchesLost(); // watches set on the connection that went are set again on the next
                }

                await Task.Delay(TimeSpan.FromMilliseconds(10), cancel).ConfigureAwait(false);
            }
        }
    }

    private async Task ConnectXenstoreAsync(TimeSpan patience, CancellationToken cancel)
    {
        var xs = await XenstoreClient.ConnectWithRetryAsync(_xenstoreSocket, patience > TimeSpan.Zero ? patience : TimeSpan.Zero, cancel).ConfigureAwait(false);
        _xs = xs;
        await xs.WatchAsync(Root, RootToken, cancel).ConfigureAwait(false);
        _ = Task.Run(async () =>
        {
            await foreach (var e in xs.WatchEvents.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                _events.Writer.TryWrite(new ControlEvent(e.Path, e.Token, null, null));
            }

            _events.Writer.TryWrite(new ControlEvent(null, null, null, xs)); // xenstored went: reconnect
        }, CancellationToken.None);
    }

    private async Task ControlLoopAsync()
    {
        var cancel = _stop.Token;
        await foreach (var e in _events.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
        {
            try
            {
                await HandleAsync(e, cancel).ConfigureAwait(false);
            }
            catch (IOException failed) when (!cancel.IsCancellationRequested && e.Lost is null)
            {
                // xenstored died under a request (its reader may not have seen the close yet): the pump's "lost"
                // event follows and reconnects. A request that timed out on a live xenstored costs this event's
                // step only; the device's next event re-reads everything.
                BackendLog.XenstoreRequestFailed(_log, _driver.DeviceType, failed.Message);
            }

            Publish();
        }
    }

    private void Publish() => _published = [.. _devices.Values.Select(d => d.Device).OfType<TDevice>()];

    private async Task HandleAsync(ControlEvent e, CancellationToken cancel)
    {
        if (e.Lost is { } lost)
        {
            if (lost != _xs)
            {
                return; // a connection already replaced (it closed while we reconnected)
            }

            BackendLog.XenstoreLost(_log, _driver.DeviceType);
            await _xs.DisposeAsync().ConfigureAwait(false);
            foreach (var d in _devices.Values)
            {
                d.WatchesLost();
            }

            await ConnectAndReconcileAsync(cancel).ConfigureAwait(false); // beyond the patience: the control task fails
            BackendLog.XenstoreBack(_log, _driver.DeviceType, _devices.Count);
            return;
        }

        if (e.Faulted is { } faulted)
        {
            if (_devices.TryGetValue(faulted, out var d))
            {
                await GuardAsync(d, () => d.FaultAsync(_xs, cancel)).ConfigureAwait(false);
            }

            return;
        }

        var path = e.Token is { } token && token.StartsWith("fe:", StringComparison.Ordinal) ? token[3..] : e.Path!;
        if (path == Root)
        {
            await ReconcileAllAsync(cancel).ConfigureAwait(false);
            return;
        }

        if (!XenbusPaths.TryParseBackend(path, _ownDomain, _driver.DeviceType, out var frontend, out var device))
        {
            if (path.StartsWith(Root + "/", StringComparison.Ordinal))
            {
                await ReconcileAllAsync(cancel).ConfigureAwait(false); // a frontend domain's whole directory went
            }

            return;
        }

        if (_devices.TryGetValue((frontend, device), out var known)
            && path.AsSpan(Root.Length).Count('/') > 2
            && known.IsOurEcho(path[(path.LastIndexOf('/') + 1)..]))
        {
            return;
        }

        await ReconcileAsync(frontend, device, cancel).ConfigureAwait(false);
    }

    private async Task ReconcileAllAsync(CancellationToken cancel)
    {
        var seen = new HashSet<(int, int)>();
        foreach (var fe in await _xs.DirectoryAsync(XenstoreClient.NoTransaction, Root, cancel).ConfigureAwait(false))
        {
            if (!int.TryParse(fe, NumberStyles.None, CultureInfo.InvariantCulture, out var frontend))
            {
                continue;
            }

            foreach (var dev in await _xs.DirectoryAsync(XenstoreClient.NoTransaction, $"{Root}/{fe}", cancel).ConfigureAwait(false))
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

    private async Task ReconcileAsync(int frontend, int device, CancellationToken cancel)
    {
        var key = (frontend, device);
        if (!_devices.TryGetValue(key, out var d))
        {
            d = new DeviceHandshake<TDevice, TConnection>(_driver, frontend, device, XenbusPaths.Backend(_ownDomain, _driver.DeviceType, frontend, device), _log);
            _devices[key] = d;
        }

        await GuardAsync(d, async () =>
        {
            if (!await d.ReconcileAsync(_xs, cancel).ConfigureAwait(false))
            {
                _devices.Remove(key);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>A xenstore refusal (a directory removed under us) costs that device's step, never the control task.</summary>
    private async Task GuardAsync(DeviceHandshake<TDevice, TConnection> d, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (XenstoreException e)
        {
            BackendLog.XenstoreRefused(_log, d.BackendPath, e.Message);
        }
    }

    /// <summary>A watch event, a ring fault, or (<see cref="Lost"/>) the close of that xenstored connection.</summary>
    private readonly record struct ControlEvent(string? Path, string? Token, (int Frontend, int Device)? Faulted, XenstoreClient? Lost);
}
