using System.Threading.Channels;
using Disagg.Abi.Io;
using Disagg.Control;
using Disagg.Netback.Datapath;
using Disagg.Netback.Hosting;
using Disagg.Netback.Status;
using Disagg.Netback.Uplink;
using Disagg.Service;
using Disagg.Xenbus;
using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// The xenbus backend for every vif of this domain (spec §7): watches /local/domain/OWN/backend/vif, and for each
/// device publishes our features and InitWait, connects when the frontend says Initialised or Connected (maps
/// both rings, binds the event channel(s), hands the vif to the switch, Connected), and disconnects on Closing,
/// Closed, a reset to Initialising, new ring references, a ring fault or the directory's removal. Every change
/// is handled by re-reading the device's current state on one task, so duplicate or coalesced watch events are
/// harmless. At start every existing device is taken up again the same way (docs/NETBACK.md, recovery).
/// </summary>
internal sealed class VifBackends(XenstoreClient xs, ServiceChannel channel, SwitchLoop sw, int ownDomain, string stateDirectory, IReadOnlyList<TapUplink> uplinks, ILogger log)
{
    private bool _statusFailing;

    public static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(500);
    private const string RootToken = "backend-root";
    private const string StatusTick = "";
    private const string FaultPrefix = "fault:";
    private readonly Dictionary<string, VifDevice> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);
    private readonly Channel<string> _work = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    public string Root { get; } = XenbusPaths.BackendRoot(ownDomain, "vif");

    public IEnumerable<VifDevice> Devices => _devices.Values;

    /// <summary>Takes up every device already in xenstore (a restart), then sets the watch; returns how many it found.</summary>
    public async Task<int> StartAsync(CancellationToken cancel)
    {
        var found = 0;
        foreach (var fe in await xs.DirectoryAsync(XenstoreClient.NoTransaction, Root, cancel).ConfigureAwait(false))
        {
            foreach (var dev in await xs.DirectoryAsync(XenstoreClient.NoTransaction, $"{Root}/{fe}", cancel).ConfigureAwait(false))
            {
                await ReconcileAsync($"{Root}/{fe}/{dev}", cancel).ConfigureAwait(false);
                found++;
            }
        }

        await xs.WatchAsync(Root, RootToken, cancel).ConfigureAwait(false);
        return found;
    }

    /// <summary>Serves watch events and ring faults until cancelled or xenstored goes.</summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        // Feeders of the one reconciling task; each ends with the process (or when xenstored goes).
        _ = Task.Run(() => PumpAsync(cancel), cancel);
        _ = Task.Run(() => FaultsAsync(cancel), cancel);
        _ = Task.Run(() => TickAsync(cancel), cancel);
        try
        {
            await foreach (var device in _work.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                if (device.StartsWith(FaultPrefix, StringComparison.Ordinal))
                {
                    await HandleFaultAsync(device[FaultPrefix.Length..], cancel).ConfigureAwait(false);
                    continue;
                }

                if (device == StatusTick)
                {
                    WriteStatus();
                    continue;
                }

                await ReconcileAsync(device, cancel).ConfigureAwait(false);
            }
        }
        finally
        {
            _work.Writer.TryComplete();
        }
    }

    /// <summary>Lets go of every connected device's rings (planned stop): the frontends keep their state, a successor resumes.</summary>
    public async Task ReleaseAllAsync()
    {
        foreach (var d in _devices.Values)
        {
            await DisconnectAsync(d).ConfigureAwait(false);
        }
    }

    private async Task PumpAsync(CancellationToken cancel)
    {
        await foreach (var e in xs.WatchEvents.ReadAllAsync(cancel).ConfigureAwait(false))
        {
            var path = e.Token == RootToken ? e.Path : e.Token.StartsWith("fe:", StringComparison.Ordinal) ? e.Token[3..] : null;
            if (path is not null && XenbusPaths.TryParseBackend(path, ownDomain, "vif", out var fe, out var dev))
            {
                _work.Writer.TryWrite(XenbusPaths.Backend(ownDomain, "vif", fe, dev));
            }
        }

        _work.Writer.TryComplete(); // xenstored went: the process exits and is restarted
    }

    /// <summary>The status file is written on the reconciling task, which owns the device table.</summary>
    private async Task TickAsync(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(StatusInterval);
        while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false) && _work.Writer.TryWrite(StatusTick))
        {
        }
    }

    /// <summary>A ring fault becomes work for the reconciling task, so it never races a reconcile of the same device.</summary>
    private async Task FaultsAsync(CancellationToken cancel)
    {
        await foreach (var vif in sw.Faults.ReadAllAsync(cancel).ConfigureAwait(false))
        {
            _work.Writer.TryWrite(FaultPrefix + XenbusPaths.Backend(ownDomain, "vif", vif.Id.Domain, vif.Id.Device));
        }
    }

    private async Task HandleFaultAsync(string backend, CancellationToken cancel)
    {
        if (_devices.TryGetValue(backend, out var d) && d.Vif is { Fault: not Ring.RingFault.None } vif)
        {
            Log.RingFault(log, vif.Id.Domain, vif.Id.ToString(), vif.Fault.ToString());
            var rings = d.Rings;
            await DisconnectAsync(d).ConfigureAwait(false);
            d.FaultedRings = rings; // not again, until the frontend starts over
            _errors[d.Backend] = $"ring fault: {vif.Fault}";
            await WriteAsync(d.Backend + "/error", _errors[d.Backend], cancel).ConfigureAwait(false);
            await SetStateAsync(d, XenbusState.Closing, cancel).ConfigureAwait(false);
        }
    }

    private async Task ReconcileAsync(string backend, CancellationToken cancel)
    {
        if (!XenbusPaths.TryParseBackend(backend, ownDomain, "vif", out var feDomain, out var devid))
        {
            return;
        }

        var id = new VifId(feDomain, devid);
        try
        {
            _devices.TryGetValue(backend, out var device);
            var frontend = await xs.ReadAsync(XenstoreClient.NoTransaction, backend + "/frontend", cancel).ConfigureAwait(false);
            if (frontend is null)
            {
                if (device is not null)
                {
                    await RemoveAsync(device, cancel).ConfigureAwait(false);
                }

                return;
            }

            if (device is null)
            {
                device = await AddAsync(id, backend, frontend, cancel).ConfigureAwait(false);
                if (device is null)
                {
                    return;
                }
            }

            var state = XenbusStates.Parse(await xs.ReadAsync(XenstoreClient.NoTransaction, frontend + "/state", cancel).ConfigureAwait(false));
            if (state is not (XenbusState.Initialised or XenbusState.Connected))
            {
                device.FaultedRings = null;
            }

            switch (state)
            {
                case XenbusState.Initialised or XenbusState.Connected:
                    await ConnectAsync(device, cancel).ConfigureAwait(false);
                    break;
                case XenbusState.Closing:
                    await DisconnectAsync(device).ConfigureAwait(false);
                    await SetStateAsync(device, XenbusState.Closing, cancel).ConfigureAwait(false);
                    break;
                case XenbusState.Closed:
                    await DisconnectAsync(device).ConfigureAwait(false);
                    await SetStateAsync(device, XenbusState.Closed, cancel).ConfigureAwait(false);
                    break;
                case XenbusState.Unknown:
                    await DisconnectAsync(device).ConfigureAwait(false); // the frontend's directory went (its domain died)
                    break;
                default:
                    // Initialising / InitWait: a frontend starting, or starting over. Offer a fresh connection.
                    await DisconnectAsync(device).ConfigureAwait(false);
                    await SetStateAsync(device, XenbusState.InitWait, cancel).ConfigureAwait(false);
                    break;
            }
        }
        catch (VifException e)
        {
            // Our own write fires the watch again: write (and log) an error only when it changed, or we would loop.
            if (!_errors.TryGetValue(backend, out var last) || last != e.Reason)
            {
                _errors[backend] = e.Reason;
                Log.VifRefused(log, id.Domain, id.ToString(), e.Reason);
                await WriteAsync(backend + "/error", e.Reason, cancel).ConfigureAwait(false);
            }
        }
        catch (XenstoreException e)
        {
            Log.XenstoreRefused(log, id.Domain, id.ToString(), e.Message); // e.g. a directory removed under us
        }
    }

    private async Task<VifDevice?> AddAsync(VifId id, string backend, string frontend, CancellationToken cancel)
    {
        var settings = await VifKeys.ReadSettingsAsync(xs, id, backend, cancel).ConfigureAwait(false);
        var device = new VifDevice(id, backend, frontend, settings);
        _devices[backend] = device;
        foreach (var (key, value) in VifKeys.Features)
        {
            await WriteAsync($"{backend}/{key}", value, cancel).ConfigureAwait(false);
        }

        await WriteAsync(backend + "/hotplug-status", "connected", cancel).ConfigureAwait(false);
        // Whatever state an earlier netback left here, this one starts from InitWait (§6: a frontend watching
        // the node sees the backend went away and came back).
        await SetStateAsync(device, XenbusState.InitWait, cancel, force: true).ConfigureAwait(false);
        await xs.WatchAsync(frontend + "/state", device.WatchToken, cancel).ConfigureAwait(false);
        Log.VifAdded(log, id.Domain, id.ToString(), settings.Bridge, settings.Mac.ToString(), settings.Mtu);
        return device;
    }

    private async Task ConnectAsync(VifDevice device, CancellationToken cancel)
    {
        var rings = await VifKeys.ReadRingsAsync(xs, device.Id, device.Frontend, cancel).ConfigureAwait(false);
        if (device.FaultedRings == rings)
        {
            return;
        }

        if (device.Connected)
        {
            if (device.Rings == rings)
            {
                return; // the same connection (a repeated or coalesced watch event)
            }

            await DisconnectAsync(device).ConfigureAwait(false); // the frontend started over with new rings
        }

        var fe = device.Id.Domain;
        try
        {
            device.TxPage = await channel.MapGrantAsync(fe, rings.TxRef, cancel: cancel).ConfigureAwait(false);
            device.RxPage = await channel.MapGrantAsync(fe, rings.RxRef, cancel: cancel).ConfigureAwait(false);
            device.LocalTxPort = await channel.BindInterdomainAsync(fe, rings.TxPort, cancel).ConfigureAwait(false);
            device.LocalRxPort = rings.RxPort == rings.TxPort
                ? device.LocalTxPort
                : await channel.BindInterdomainAsync(fe, rings.RxPort, cancel).ConfigureAwait(false);
        }
        catch (KernelRequestException e)
        {
            await DisconnectAsync(device).ConfigureAwait(false);
            throw new VifException(device.Id, $"rings {rings.TxRef}/{rings.RxRef}, port {rings.TxPort}/{rings.RxPort}: {e.Message}", e);
        }

        device.Rings = rings;
        unsafe
        {
            // Resume, not a fresh attach: after a restart the indices in the page are where the dead netback
            // left them; on a ring the frontend has just initialised, both start at 0 anyway.
            device.Vif = new Vif(device.Id, device.Settings, fe, device.TxPage.Pointer, device.RxPage.Pointer, device.LocalTxPort, device.LocalRxPort, resume: true);
        }

        await sw.Submit(new AttachVif(device.Vif)).ConfigureAwait(false);
        if (_errors.Remove(device.Backend))
        {
            await xs.RmAsync(XenstoreClient.NoTransaction, device.Backend + "/error", cancel).ConfigureAwait(false);
        }

        await SetStateAsync(device, XenbusState.Connected, cancel).ConfigureAwait(false);
        Log.VifConnected(log, fe, device.Id.ToString(), device.Settings.Bridge, rings.TxRef, rings.RxRef, rings.TxPort, rings.RxPort);
    }

    private async Task DisconnectAsync(VifDevice device)
    {
        if (device.Vif is { } vif)
        {
            await sw.Submit(new DetachVif(vif)).ConfigureAwait(false);
            device.Vif = null;
            device.LastStatistics = vif.Port?.Statistics;
            Log.VifDisconnected(log, device.Id.Domain, device.Id.ToString());
        }

        device.Rings = null;
        if (device.TxPage is { } tx)
        {
            device.TxPage = null;
            await tx.DisposeAsync().ConfigureAwait(false);
        }

        if (device.RxPage is { } rx)
        {
            device.RxPage = null;
            await rx.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var port in device.LocalRxPort != device.LocalTxPort ? [device.LocalTxPort, device.LocalRxPort] : new[] { device.LocalTxPort })
        {
            if (port > 0)
            {
                try
                {
                    await channel.CloseAsync(port).ConfigureAwait(false);
                }
                catch (KernelRequestException e)
                {
                    Log.PortCloseFailed(log, device.Id.Domain, device.Id.ToString(), port, e.Message); // the frontend closed it first
                }
            }
        }

        device.LocalTxPort = device.LocalRxPort = 0;
    }

    private async Task RemoveAsync(VifDevice device, CancellationToken cancel)
    {
        await DisconnectAsync(device).ConfigureAwait(false);
        _devices.Remove(device.Backend);
        await xs.UnwatchAsync(device.Frontend + "/state", device.WatchToken, cancel).ConfigureAwait(false);
        Log.VifRemoved(log, device.Id.Domain, device.Id.ToString());
    }

    /// <summary>Writes the backend state node, only on a change: our own write fires our watch, and must not loop.</summary>
    private Task SetStateAsync(VifDevice device, XenbusState state, CancellationToken cancel, bool force = false)
    {
        if (device.State == state && !force)
        {
            return Task.CompletedTask;
        }

        device.State = state;
        return WriteAsync(device.Backend + "/state", XenbusStates.Format(state), cancel);
    }

    private async Task WriteAsync(string path, string value, CancellationToken cancel)
    {
        try
        {
            await xs.WriteAsync(XenstoreClient.NoTransaction, path, value, cancel).ConfigureAwait(false);
        }
        catch (XenstoreException e)
        {
            Log.XenstoreRefused(log, ownDomain, path, e.Message); // the toolstack removed the directory meanwhile
        }
    }

    /// <summary>A full disk or a read-only state directory costs the status file, never the device loop.</summary>
    private void WriteStatus()
    {
        try
        {
            StatusFile.Write(stateDirectory, sw, _devices.Values, uplinks);
            _statusFailing = false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_statusFailing)
            {
                Log.StatusWriteFailed(log, stateDirectory, e.Message);
                _statusFailing = true;
            }
        }
    }
}
