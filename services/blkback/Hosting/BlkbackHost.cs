using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Blkback.DataPath;
using Disagg.Blkback.Status;
using Disagg.Blkback.Xenbus;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Logging;

namespace Disagg.Blkback.Hosting;

/// <summary>
/// The process: take the state directory's lock (one blkback per host), open the kernel channel, start the I/O
/// loop, rebuild every device from xenstore (re-connecting rings that frontends still use), print
/// "ready domain=N devices=M", and serve until SIGTERM. Exit codes: 0 stopped, 2 usage, 69 kernel or xenstored
/// unreachable, 73 another blkback holds the state directory, 75 the kernel connection or the I/O loop failed
/// (the supervisor restarts us; frontends lose nothing, §6).
/// </summary>
internal static class BlkbackHost
{
    /// <summary>How long xenstored may be away (at start, or restarting) before we give up and exit.</summary>
    private static readonly TimeSpan XenstorePatience = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(BlkbackOptions options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("blkback");
        var clock = Stopwatch.StartNew();
        var environment = ServiceEnvironment.FromProcess();
        if (environment is null)
        {
            Log.CannotStart(log, "no kernel channel in the environment (DISAGG_KERNEL_SOCKET, DISAGG_SERVICE_TOKEN, DISAGG_DOMAIN_ID)");
            return 2;
        }

        Directory.CreateDirectory(options.StateDirectory);
        FileStream instance;
        try
        {
            // FileShare.None is flock(LOCK_EX): a second blkback on the same host would fight over every ring.
            instance = new FileStream(Path.Combine(options.StateDirectory, "blkback.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            Log.CannotStart(log, $"another blkback holds {options.StateDirectory}: {e.Message}");
            return 73;
        }

        await using var lockFile = instance;
        ServiceChannel channel;
        try
        {
            channel = await ServiceChannel.OpenAsync(environment, options.BufferPages).WaitAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            await channel.Kernel.CallAsync<OkReply>(new Subscribe()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Log.CannotStart(log, $"kernel at {environment.KernelSocket}: {e.Message}");
            return 69;
        }

        await using var ownedChannel = channel;
        var exitCode = 0;
        using var stop = new CancellationTokenSource();
        XenbusBackend<Vbd, VbdRingKeys>? backend = null;
        using var loop = new IoLoop(
            new ServiceBackendChannel(channel),
            options.MaxIndirectSegments,
            ring => backend?.ReportFault(ring.FrontendDomain, ring.DeviceId),
            e =>
            {
                Log.LoopFailed(log, e);
                exitCode = 75;
                stop.Cancel();
            });
        Log.ChannelOpen(log, channel.DomainId, loop.Slots, loop.SlotPages, loop.MaxIndirectSegments);
        loop.Start();
        _ = WatchKernelAsync(channel, () =>
        {
            Log.KernelLost(log);
            exitCode = 75;
            stop.Cancel();
        });

        try
        {
            var driver = new VbdDriver(new ChannelFrontendLinks(channel), loop, log);
            backend = await XenbusBackend<Vbd, VbdRingKeys>.StartAsync(options.XenstoreSocket, XenstorePatience, channel.DomainId, driver, log, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or Disagg.Xenbus.XenstoreException or OperationCanceledException)
        {
            Log.CannotStart(log, $"xenstored at {options.XenstoreSocket}: {e.Message}");
            return exitCode != 0 ? exitCode : 69;
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });

        var status = Task.Run(() => WriteStatusAsync(options.StateDirectory, loop, backend, log, stop.Token), CancellationToken.None);
        Log.Serving(log, backend.Devices.Count, clock.ElapsedMilliseconds);
        Console.Out.WriteLine($"ready domain={channel.DomainId} devices={backend.Devices.Count}");
        Console.Out.Flush();
        try
        {
            await backend.Completion.WaitAsync(stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or Disagg.Xenbus.XenstoreException)
        {
            Log.XenstoreGone(log, XenstorePatience.TotalSeconds, e.Message);
            exitCode = 75; // the supervisor restarts us; frontends reconnect from InitWait
        }

        await stop.CancelAsync().ConfigureAwait(false); // the control task may have ended on its own
        await status.ConfigureAwait(false);
        var rings = backend.Devices.Select(d => d.Ring).OfType<VbdRing>().ToList();
        Log.Stopping(log, rings.Sum(r => r.Counters.Requests), rings.Sum(r => r.Counters.Refused), rings.Sum(r => r.Counters.CopyFailures), rings.Sum(r => r.Counters.IoFailures));
        if (exitCode == 0)
        {
            await backend.DisposeAsync().ConfigureAwait(false);
        }

        return exitCode;
    }

    /// <summary>
    /// DIR/status, now and then every <see cref="StatusFile.Interval"/> until stopped: on its own task, so it keeps
    /// showing the counters while the control task waits (a detach waits for the loop to answer what is in flight).
    /// </summary>
    private static async Task WriteStatusAsync(string stateDirectory, IoLoop loop, XenbusBackend<Vbd, VbdRingKeys> backend, ILogger log, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(StatusFile.Interval);
        var failing = false;
        do
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
        }
        while (await WaitForTickAsync(timer, cancel).ConfigureAwait(false));
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken cancel)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The kernel's event stream ends when its connection does.</summary>
    private static async Task WatchKernelAsync(ServiceChannel channel, Action lost)
    {
        try
        {
            await foreach (var e in channel.Kernel.Events.ReadAllAsync().ConfigureAwait(false))
            {
                _ = e; // domain deaths: their device directories are removed by the toolstack, which we follow
            }
        }
        catch (KernelConnectionLostException)
        {
        }

        lost();
    }
}
