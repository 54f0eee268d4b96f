using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Control;
using Disagg.Interop;
using Disagg.Interop.Net;
using Disagg.Netback.DataPath;
using Disagg.Netback.Status;
using Disagg.Netback.Uplink;
using Disagg.Netback.Xenbus;
using Disagg.Service;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Hosting;

/// <summary>
/// The process: open the service channel, connect to xenstored, start the switching thread, attach the TAP
/// uplinks, take up every vif already in xenstore (a restart resumes their rings), print "ready", then serve
/// until SIGTERM (exit 0), or until the switch stops or xenstored stays away longer than its patience (exit 75:
/// the supervisor restarts us). A restarted xenstored is reconnected to while the switch goes on.
/// </summary>
internal static class NetbackService
{
    /// <summary>Copy-buffer pages: one per frame of a batch.</summary>
    public const int BufferPages = SwitchLoop.MaxBatch + SwitchLoop.RxBacklogPages;

    public static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long xenstored may be away (restarting) before we give up and exit for a restart of our own.</summary>
    private static readonly TimeSpan XenstorePatience = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(NetbackOptions options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("netback");
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.StateDirectory);
        var environment = options.KernelSocket is not null
            ? new ServiceEnvironment(options.KernelSocket, options.Token!, options.DomainId!.Value)
            : ServiceEnvironment.FromProcess();
        if (environment is null)
        {
            Log.Unreachable(log, "the kernel", "no --kernel-socket and no DISAGG_KERNEL_SOCKET/DISAGG_SERVICE_TOKEN/DISAGG_DOMAIN_ID");
            return 64; // EX_USAGE
        }

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        ServiceChannel channel;
        try
        {
            channel = await ServiceChannel.OpenAsync(environment, BufferPages, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException)
        {
            Log.Unreachable(log, "the kernel at " + environment.KernelSocket, e.Message);
            return 69; // EX_UNAVAILABLE: the supervisor retries
        }

        await using var channelOwner = channel.ConfigureAwait(false);
        using var sw = new SwitchLoop(new ServiceBackendChannel(channel));
        sw.Start();
        var uplinks = new List<TapUplink>();
        foreach (var (bridge, tap, mtu) in options.Uplinks)
        {
            try
            {
                var uplink = new TapUplink(bridge, TapDevice.Open(tap, mtu), mtu);
                await sw.Submit(new AttachUplink(uplink)).ConfigureAwait(false);
                uplinks.Add(uplink);
                Log.UplinkAttached(log, bridge, tap);
            }
            catch (InteropException e)
            {
                Log.Unreachable(log, "TAP device " + tap, e.Message);
                return 71; // EX_OSERR: not root, or no /dev/net/tun
            }
        }

        XenbusBackend<VifDevice, FrontendRings> backend;
        try
        {
            backend = await XenbusBackend<VifDevice, FrontendRings>.StartAsync(options.XenstoreSocket, XenstorePatience, environment.DomainId, new VifDriver(channel, sw, log), log, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or XenstoreException)
        {
            Log.Unreachable(log, "xenstored at " + options.XenstoreSocket, e.Message);
            return 69;
        }

        var faults = Task.Run(() => ForwardFaultsAsync(sw, backend, stop.Token), CancellationToken.None);
        var status = Task.Run(() => WriteStatusAsync(options.StateDirectory, sw, backend, uplinks, log, stop.Token), CancellationToken.None);
        Log.Started(log, backend.Devices.Count, uplinks.Count, environment.DomainId, clock.ElapsedMilliseconds);
        Console.Out.WriteLine($"ready domain={environment.DomainId} state-dir={options.StateDirectory}");
        Console.Out.Flush();

        var done = await Task.WhenAny(backend.Completion, sw.Stopped, Task.Delay(Timeout.Infinite, stop.Token)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(faults, status).ConfigureAwait(false);
        if (done == sw.Stopped)
        {
            Log.SwitchStopped(log, sw.Failure?.Message ?? "stopped");
            return 75; // EX_TEMPFAIL: restart us
        }

        if (done == backend.Completion)
        {
            Log.XenstoreGone(log, XenstorePatience.TotalSeconds, backend.Completion.Exception?.GetBaseException().Message ?? "control task ended");
            return 75;
        }

        // Planned stop: the rings are let go, frontends keep their state; a successor resumes them (docs/NETBACK.md).
        await backend.DisposeAsync().ConfigureAwait(false);
        return 0;
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

    /// <summary>DIR/status every <see cref="StatusInterval"/>: a full disk or a read-only state directory costs the status file, never switching.</summary>
    private static async Task WriteStatusAsync(string stateDirectory, SwitchLoop sw, XenbusBackend<VifDevice, FrontendRings> backend, IReadOnlyList<TapUplink> uplinks, ILogger log, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(StatusInterval);
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false))
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
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
