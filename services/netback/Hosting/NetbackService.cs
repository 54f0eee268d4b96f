using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Control;
using Disagg.Interop;
using Disagg.Interop.Net;
using Disagg.Netback.Datapath;
using Disagg.Netback.Uplink;
using Disagg.Netback.Xenbus;
using Disagg.Service;
using Disagg.Xenbus;
using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Hosting;

/// <summary>
/// The process: open the service channel, connect to xenstored, start the switching thread, attach the TAP
/// uplinks, take up every vif already in xenstore (a restart resumes their rings), print "ready", then serve
/// until SIGTERM (exit 0), or until xenstored or the kernel goes (exit 75: the supervisor restarts us).
/// </summary>
internal static class NetbackService
{
    /// <summary>Copy-buffer pages: one per frame of a batch.</summary>
    public const int BufferPages = SwitchLoop.MaxBatch + SwitchLoop.RxBacklogPages;

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
        XenstoreClient xs;
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
        try
        {
            xs = await XenstoreClient.ConnectWithRetryAsync(options.XenstoreSocket, TimeSpan.FromSeconds(10), stop.Token).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Log.Unreachable(log, "xenstored at " + options.XenstoreSocket, e.Message);
            return 69;
        }

        await using var xsOwner = xs.ConfigureAwait(false);
        using var sw = new SwitchLoop(new ChannelSwitchKernel(channel));
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

        var backends = new VifBackends(xs, channel, sw, environment.DomainId, options.StateDirectory, uplinks, log);
        var found = await backends.StartAsync(stop.Token).ConfigureAwait(false);
        Log.Started(log, found, uplinks.Count, environment.DomainId, clock.ElapsedMilliseconds);
        Console.Out.WriteLine($"ready domain={environment.DomainId} state-dir={options.StateDirectory}");
        Console.Out.Flush();

        var serving = backends.RunAsync(stop.Token);
        var done = await Task.WhenAny(serving, sw.Stopped, xs.Closed).ConfigureAwait(false);
        if (stop.IsCancellationRequested)
        {
            return 0; // planned stop: frontends keep their state; a successor resumes the rings (docs/NETBACK.md)
        }

        if (done == sw.Stopped)
        {
            Log.SwitchStopped(log, sw.Failure?.Message ?? "stopped");
        }
        else
        {
            Log.XenstoreLost(log);
        }

        return 75; // EX_TEMPFAIL: restart us
    }
}
