using Disagg.Abi.Io;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenbus.Backend;

/// <summary>
/// One device's side of the handshake and everything it remembers between watch events: the state we last wrote,
/// the frontend state at the last look, the connection the data path holds, a connection that faulted, the error
/// we wrote. Steps decided by <see cref="HandshakeRules"/>; carried out through the service's driver. Used only
/// by the backend's control task.
/// </summary>
internal sealed class DeviceHandshake<TDevice, TConnection>(IXenbusDriver<TDevice, TConnection> driver, int frontendDomain, int deviceId, string backendPath, ILogger log)
    where TDevice : class
    where TConnection : IEquatable<TConnection>
{
    private const uint Tx = XenstoreClient.NoTransaction;

    /// <summary>Keys we write besides "state": a watch event for one of them is our own echo, not news.</summary>
    private readonly HashSet<string> _ours = new(StringComparer.Ordinal) { "error", "hotplug-status" };
    private XenbusState _written;
    private XenbusState _lastFrontend;
    private TConnection? _connection;
    private bool _connected;
    private TConnection? _faulted;
    private bool _hasFaulted;
    private bool _detaching;
    private string? _error;
    private string? _watched;

    public string BackendPath { get; } = backendPath;

    /// <summary>The watch token of the frontend's state node: names our backend directory.</summary>
    public string Token => "fe:" + BackendPath;

    public XenbusDevice? Address { get; private set; }

    /// <summary>The driver's device, once set up.</summary>
    public TDevice? Device { get; private set; }

    private string Name => Address?.Name ?? $"{driver.DeviceType} {frontendDomain}/{deviceId}";

    /// <summary>A watch event under our directory for a key only we write.</summary>
    public bool IsOurEcho(string leaf) => _ours.Contains(leaf);

    /// <summary>Brings the device in line with xenstore now; false once its directory is gone and it is forgotten.</summary>
    public async Task<bool> ReconcileAsync(XenstoreClient xs, CancellationToken cancel)
    {
        var frontendPath = await xs.ReadAsync(Tx, BackendPath + "/frontend", cancel).ConfigureAwait(false);
        if (frontendPath is null)
        {
            await ForgetAsync(xs, cancel).ConfigureAwait(false);
            return false;
        }

        if (Device is null && !await SetUpAsync(xs, frontendPath, cancel).ConfigureAwait(false))
        {
            return true; // tried again at the next change of the directory (the toolstack may still be writing it)
        }

        var address = Address!;
        if (_watched is null)
        {
            _watched = address.FrontendPath + "/state";
            await xs.WatchAsync(_watched, Token, cancel).ConfigureAwait(false);
        }

        var frontend = XenbusStates.Parse(await xs.ReadAsync(Tx, address.FrontendPath + "/state", cancel).ConfigureAwait(false));
        var node = XenbusStates.Parse(await xs.ReadAsync(Tx, BackendPath + "/state", cancel).ConfigureAwait(false));
        _detaching |= node == XenbusState.Closing && _written != XenbusState.Closing; // libxl's detach: until the directory goes
        if (frontend is not (XenbusState.Initialised or XenbusState.Connected))
        {
            _hasFaulted = false; // the frontend started over: its next rings are judged afresh
        }

        var step = HandshakeRules.Next(frontend, _lastFrontend, _detaching, _connected, driver.Restart);
        _lastFrontend = frontend;
        switch (step)
        {
            case HandshakeStep.Connect or HandshakeStep.Reconnect:
                await ConnectAsync(xs, step == HandshakeStep.Reconnect, cancel).ConfigureAwait(false);
                break;
            case HandshakeStep.Offer:
                await DisconnectAsync(frontend).ConfigureAwait(false);
                if (_written != XenbusState.InitWait)
                {
                    await PublishAsync(xs, cancel).ConfigureAwait(false);
                    await WriteStateAsync(xs, XenbusState.InitWait, force: false, cancel).ConfigureAwait(false);
                }

                break;
            case HandshakeStep.Closing:
                await DisconnectAsync(frontend).ConfigureAwait(false);
                await WriteStateAsync(xs, XenbusState.Closing, force: false, cancel).ConfigureAwait(false);
                break;
            case HandshakeStep.Closed:
                await DisconnectAsync(frontend).ConfigureAwait(false);
                await WriteStateAsync(xs, XenbusState.Closed, force: node != XenbusState.Closed, cancel).ConfigureAwait(false);
                break;
        }

        return true;
    }

    /// <summary>The data path reported a fault: if the current connection's ring is broken, let it go and say why (Xen's xenbus_dev_fatal).</summary>
    public async Task FaultAsync(XenstoreClient xs, CancellationToken cancel)
    {
        if (!_connected || driver.FaultOf(Device!) is not { } reason)
        {
            return; // a stale report: the faulted connection was replaced meanwhile
        }

        BackendLog.RingFault(log, frontendDomain, Name, reason);
        (_faulted, _hasFaulted) = (_connection, true); // not connected again until the frontend starts over or writes new keys
        await DisconnectAsync(null).ConfigureAwait(false);
        await WriteErrorAsync(xs, "ring fault: " + reason, cancel).ConfigureAwait(false);
        await WriteStateAsync(xs, XenbusState.Closing, force: false, cancel).ConfigureAwait(false);
    }

    /// <summary>The directory went: disconnect, stop watching the frontend, and let the driver close what it opened.</summary>
    public async Task ForgetAsync(XenstoreClient? xs, CancellationToken cancel)
    {
        await DisconnectAsync(null).ConfigureAwait(false);
        if (_watched is { } watched && xs is not null)
        {
            _watched = null;
            try
            {
                await xs.UnwatchAsync(watched, Token, cancel).ConfigureAwait(false);
            }
            catch (XenstoreException)
            {
                // not registered any more
            }
        }

        if (Device is { } device)
        {
            Device = null;
            await driver.ForgetAsync(device).ConfigureAwait(false);
            BackendLog.Forgotten(log, frontendDomain, Name);
        }
    }

    /// <summary>A planned stop: the rings go, xenstore is left as it is for a successor.</summary>
    public Task ReleaseAsync() => DisconnectAsync(null);

    /// <summary>A new connection to xenstored holds none of the old one's watches.</summary>
    public void WatchesLost() => _watched = null;

    private async Task<bool> SetUpAsync(XenstoreClient xs, string frontendPath, CancellationToken cancel)
    {
        Address = new XenbusDevice(driver.DeviceType, frontendDomain, deviceId, BackendPath, frontendPath);
        try
        {
            Device = await driver.SetUpAsync(Address, xs, cancel).ConfigureAwait(false);
        }
        catch (XenbusDeviceException e)
        {
            if (_error != e.Reason)
            {
                BackendLog.Refused(log, frontendDomain, Name, e.Reason);
                await WriteErrorAsync(xs, e.Reason, cancel).ConfigureAwait(false);
                await WriteStateAsync(xs, XenbusState.Closed, force: true, cancel).ConfigureAwait(false);
            }

            return false;
        }

        foreach (var (key, _) in driver.Features(Device))
        {
            _ours.Add(key);
        }

        // Whatever state an earlier process left here, this one starts from InitWait (§6: a frontend watching
        // the node sees the backend went away and came back).
        await PublishAsync(xs, cancel).ConfigureAwait(false);
        await WriteStateAsync(xs, XenbusState.InitWait, force: true, cancel).ConfigureAwait(false);
        return true;
    }

    private async Task ConnectAsync(XenstoreClient xs, bool reinitialised, CancellationToken cancel)
    {
        TConnection keys;
        try
        {
            keys = await driver.ReadFrontendAsync(Device!, xs, cancel).ConfigureAwait(false);
        }
        catch (XenbusDeviceException e)
        {
            await RefuseAsync(xs, e.Reason, cancel).ConfigureAwait(false);
            return;
        }

        if (_hasFaulted && keys.Equals(_faulted))
        {
            return;
        }

        if (_connected)
        {
            if (!reinitialised && keys.Equals(_connection))
            {
                return; // the same connection (a repeated or coalesced watch event)
            }

            await DisconnectAsync(XenbusState.Initialised).ConfigureAwait(false); // the frontend started over
        }

        try
        {
            await driver.ConnectAsync(Device!, keys, cancel).ConfigureAwait(false);
        }
        catch (XenbusDeviceException e)
        {
            await RefuseAsync(xs, e.Reason, cancel).ConfigureAwait(false);
            await WriteStateAsync(xs, XenbusState.InitWait, force: false, cancel).ConfigureAwait(false); // the frontend may try again (§6)
            return;
        }

        (_connection, _connected) = (keys, true);
        if (_error is not null)
        {
            _error = null;
            await xs.RmAsync(Tx, BackendPath + "/error", cancel).ConfigureAwait(false);
        }

        await WriteStateAsync(xs, XenbusState.Connected, force: false, cancel).ConfigureAwait(false);
    }

    private async Task DisconnectAsync(XenbusState? frontend)
    {
        if (!_connected)
        {
            return;
        }

        _connected = false;
        _connection = default;
        await driver.DisconnectAsync(Device!).ConfigureAwait(false);
        BackendLog.Disconnected(log, frontendDomain, Name, frontend?.ToString() ?? "-");
    }

    /// <summary>The features and hotplug-status, in parallel (one round trip's latency, not fifteen); a stale error goes.</summary>
    private async Task PublishAsync(XenstoreClient xs, CancellationToken cancel)
    {
        var features = driver.Features(Device!);
        var writes = new Task[features.Count + 2];
        for (var i = 0; i < features.Count; i++)
        {
            writes[i] = xs.WriteAsync(Tx, $"{BackendPath}/{features[i].Key}", features[i].Value, cancel);
        }

        writes[^2] = xs.WriteAsync(Tx, BackendPath + "/hotplug-status", "connected", cancel);
        writes[^1] = xs.RmAsync(Tx, BackendPath + "/error", cancel);
        _error = null;
        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>Our own write fires the watch again: an error is written (and logged) only when it changed, or we would loop.</summary>
    private async Task RefuseAsync(XenstoreClient xs, string reason, CancellationToken cancel)
    {
        if (_error != reason)
        {
            BackendLog.Refused(log, frontendDomain, Name, reason);
            await WriteErrorAsync(xs, reason, cancel).ConfigureAwait(false);
        }
    }

    private async Task WriteErrorAsync(XenstoreClient xs, string reason, CancellationToken cancel)
    {
        _error = reason;
        await WriteIfPresentAsync(xs, "error", reason, cancel).ConfigureAwait(false);
    }

    /// <summary>Writes our state node only on a change (our write fires our watch and must not loop), or when forced.</summary>
    private async Task WriteStateAsync(XenstoreClient xs, XenbusState state, bool force, CancellationToken cancel)
    {
        if (_written == state && !force)
        {
            return;
        }

        _written = state;
        await WriteIfPresentAsync(xs, "state", XenbusStates.Format(state), cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// Xen's xenbus_switch_state: a write into a directory the toolstack is removing (a detach) must not
    /// bring it back, so it happens in a transaction that first sees the directory is still there; a removal
    /// racing it makes the commit fail, and the retry sees the directory gone and writes nothing. A write that
    /// never commits is left to the next reconcile, which the conflicting change's watch event starts.
    /// </summary>
    private Task WriteIfPresentAsync(XenstoreClient xs, string key, string value, CancellationToken cancel) =>
        xs.RunTransactionAsync(
            async tx =>
            {
                if (await xs.ReadAsync(tx, BackendPath + "/frontend", cancel).ConfigureAwait(false) is not null)
                {
                    await xs.WriteAsync(tx, $"{BackendPath}/{key}", value, cancel).ConfigureAwait(false);
                }
            },
            cancel);
}
