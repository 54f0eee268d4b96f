using Disagg.Control;
using Disagg.Netback.DataPath;
using Disagg.Netback.Hosting;
using Disagg.Service;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Xenbus;

/// <summary>
/// netback's device for the shared xenbus life cycle (<see cref="XenbusBackend{TDevice, TConnection}"/>): a vif's
/// settings from the toolstack's keys, its two rings and event channel(s) from the frontend's, and the switch as
/// its data path. Rings are resumed from their indices (<see cref="RestartRule.ResumeRings"/>): after a restart the
/// indices in the pages are where the dead netback left them (docs/NETBACK.md, recovery).
/// </summary>
internal sealed class VifDriver(ServiceChannel channel, SwitchLoop sw, ILogger log) : IXenbusDriver<VifDevice, FrontendRings>
{
    public string DeviceType => "vif";

    public RestartRule Restart => RestartRule.ResumeRings;

    public async Task<VifDevice> SetUpAsync(XenbusDevice device, XenstoreClient xs, CancellationToken cancel)
    {
        var settings = await VifKeys.ReadSettingsAsync(xs, device, cancel).ConfigureAwait(false);
        Log.VifAdded(log, device.FrontendDomain, device.Name, settings.Bridge, settings.Mac.ToString(), settings.Mtu);
        sw.Changes.Mark(); // a new line in the status file
        return new VifDevice(device, settings);
    }

    public IReadOnlyList<(string Key, string Value)> Features(VifDevice device) => VifKeys.Features;

    public Task<FrontendRings> ReadFrontendAsync(VifDevice device, XenstoreClient xs, CancellationToken cancel) =>
        VifKeys.ReadRingsAsync(xs, device.Address, cancel);

    public async Task ConnectAsync(VifDevice device, FrontendRings rings, CancellationToken cancel)
    {
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
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
        {
            await DisconnectAsync(device).ConfigureAwait(false);
            throw new XenbusDeviceException(device.Address, $"rings {rings.TxRef}/{rings.RxRef}, port {rings.TxPort}/{rings.RxPort}: {e.Message}", e);
        }

        unsafe
        {
            // Resume, not a fresh attach: after a restart the indices in the page are where the dead netback
            // left them; on a ring the frontend has just initialised, both start at 0 anyway.
            device.Vif = new Vif(device.Id, device.Settings, fe, device.TxPage.Pointer, device.RxPage.Pointer, device.LocalTxPort, device.LocalRxPort, resume: true);
        }

        await sw.Submit(new AttachVif(device.Vif)).ConfigureAwait(false);
        Log.VifConnected(log, fe, device.Address.Name, device.Settings.Bridge, rings.TxRef, rings.RxRef, rings.TxPort, rings.RxPort);
        if (device.Settings.Announce)
        {
            Log.VifAnnounced(log, fe, device.Address.Name, device.Settings.Bridge, device.Settings.Mac.ToString()); // in the batch after the attach
        }
    }

    public async Task DisconnectAsync(VifDevice device)
    {
        if (device.Vif is { } vif)
        {
            await sw.Submit(new DetachVif(vif)).ConfigureAwait(false);
            device.Vif = null;
            device.LastStatistics = vif.Port?.Statistics;
        }

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
                catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
                {
                    Log.PortCloseFailed(log, device.Id.Domain, device.Address.Name, port, e.Message); // the frontend closed it first
                }
            }
        }

        device.LocalTxPort = device.LocalRxPort = 0;
    }

    public string? FaultOf(VifDevice device) => device.Vif is { Fault: not Ring.RingFault.None } vif ? vif.Fault.ToString() : null;

    public ValueTask ForgetAsync(VifDevice device)
    {
        sw.Changes.Mark(); // its status line goes; a vif holds nothing beyond its connection
        return ValueTask.CompletedTask;
    }
}
