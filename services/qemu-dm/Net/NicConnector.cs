using System.Globalization;
using Disagg.Control;
using Disagg.Netif;
using Disagg.QemuDm.Hosting;
using Disagg.Service;
using Disagg.Xenbus;
using Microsoft.Extensions.Logging;

namespace Disagg.QemuDm.Net;

/// <summary>
/// Connects each NIC's vif to its netback, off the device thread, retrying until it is up: at start, after a
/// restart of qemu-dm (the new process starts the vif over: Initialising, netback drops the dead process's rings
/// and maps the new ones) and while netback itself is away. The vif is device N of qemu-dm's own domain; the
/// backend directory is the toolstack's, and is written here only when no toolstack wrote it (qemu-dm started
/// by hand or by a test). Once connected nothing more is needed: a restarted netback resumes the same rings.
/// </summary>
internal sealed class NicConnector(ServiceChannel channel, string xenstoreSocket, IReadOnlyList<(NicOption Option, NicPort Port)> nics, int reservedPages, ILogger log)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    public static int GrantFrames(int nics) => nics == 0 ? 0 : NetfrontLayout.GrantFrames(nics);

    public static int BufferPages(int nics) => nics * Netfront.Pages;

    /// <summary>Connects every NIC (each retried on its own until <paramref name="stop"/>).</summary>
    public Task RunAsync(CancellationToken stop)
    {
        var tasks = new List<Task>();
        for (var i = 0; i < nics.Count; i++)
        {
            tasks.Add(ConnectAsync(i, stop));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>The domain was destroyed: its vifs go from xenstore (as the toolstack removes a destroyed guest's).</summary>
    public async Task RemoveAsync()
    {
        foreach (var (_, port) in nics)
        {
            if (port.Vif is { } vif)
            {
                try
                {
                    await vif.RemoveDeviceAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or TimeoutException or XenstoreException)
                {
                    Log.NicRemoveFailed(log, port.Name, e.Message);
                }
            }
        }
    }

    private async Task ConnectAsync(int index, CancellationToken stop)
    {
        var (option, port) = nics[index];
        var layout = NetfrontLayout.For(index, reservedPages);
        var attempt = 0;
        while (!stop.IsCancellationRequested)
        {
            attempt++;
            XenstoreClient? xs = null;
            try
            {
                xs = await XenstoreClient.ConnectWithRetryAsync(xenstoreSocket, Patience, stop).ConfigureAwait(false);
                var backend = await ResolveBackendAsync(xs, option.Backend, stop).ConfigureAwait(false);
                var vif = new VifDescription(index, option.Mac, option.Bridge);
                var backendPath = XenbusPaths.Backend(backend, "vif", channel.DomainId, index);
                var toolstackWrote = await xs.ReadAsync(XenstoreClient.NoTransaction, backendPath + "/frontend", stop).ConfigureAwait(false) is not null;
                var netfront = await Netfront.ConnectAsync(channel, xs, vif, backend, layout, writeToolstackKeys: !toolstackWrote, Patience, stop).ConfigureAwait(false);
                port.Vif = netfront;
                Log.NicConnected(log, port.Name, option.Mac, option.Bridge, backend, channel.DomainId, index, netfront.Port);
                return; // xs stays with the vif: it removes the device when the domain goes
            }
            catch (Exception e) when (e is IOException or TimeoutException or XenstoreException or KernelRequestException or System.Net.Sockets.SocketException or FormatException)
            {
                if (xs is not null)
                {
                    await xs.DisposeAsync().ConfigureAwait(false);
                }

                Log.NicNotConnected(log, port.Name, attempt, e.Message);
                try
                {
                    await Task.Delay(Retry, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>A domain id, or a service's name as the toolstack registers it in xenstore (/local/domain/N/name).</summary>
    private static async Task<int> ResolveBackendAsync(XenstoreClient xs, string backend, CancellationToken stop)
    {
        if (int.TryParse(backend, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return id;
        }

        foreach (var d in await xs.DirectoryAsync(XenstoreClient.NoTransaction, "/local/domain", stop).ConfigureAwait(false))
        {
            if (await xs.ReadAsync(XenstoreClient.NoTransaction, $"/local/domain/{d}/name", stop).ConfigureAwait(false) == backend
                && int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var named))
            {
                return named;
            }
        }

        throw new FormatException($"backend '{backend}': no domain of that name in xenstore");
    }
}
