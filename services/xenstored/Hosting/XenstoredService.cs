using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Control;
using Disagg.Interop;
using Disagg.Service;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Durability;
using Disagg.Xenstored.Transport.Ring;
using Disagg.Xenstored.Transport.Socket;
using Disagg.Xenstored.Watches;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// The process: load the state directory (snapshot + journal, torn tail dropped), re-create
/// introduced domains' connections with their watches — with the kernel, after releasing the domains that no
/// longer exist, re-mapping and re-binding each one's ring — then serve the socket and the rings from one event
/// loop until SIGTERM. Prints "ready socket=PATH" once clients can connect.
/// </summary>
internal static class XenstoredService
{
    public static int Run(XenstoredOptions options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("xenstored");
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.StateDirectory);
        var state = new XenstoreState(options.Quota);
        var applier = new RecordApplier(state);
        var snapshotSeq = Snapshot.Load(options.StateDirectory, applier);
        var replay = JournalReplay.Run(options.StateDirectory, snapshotSeq, applier);
        using var journal = new Journal(options.StateDirectory, replay.ValidLength, replay.LastSequence);

        var loop = new StoreLoop(state, journal, options.StateDirectory, options.CompactBytes);
        var guests = new GuestConnections(loop, options.Quota);
        var processor = new XsRequestProcessor(state, journal, guests);
        loop.Processor = processor;
        var exitCode = 0;
        using var stop = new ManualResetEventSlim();

        // Guests' rings through the kernel when we know where it is (flags, or the host daemon's environment).
        KernelRingSource? kernel = null;
        var environment = options.KernelSocket is not null
            ? new ServiceEnvironment(options.KernelSocket, options.Token!, -1)
            : options.RingHandoff is null ? ServiceEnvironment.FromProcess() : null;
        if (environment is not null)
        {
            try
            {
                kernel = OpenKernel(environment, loop, processor, state, log, () =>
                {
                    exitCode = 75; // EX_TEMPFAIL
                    stop.Set();
                });
            }
            catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException or IOException or System.Net.Sockets.SocketException or TimeoutException)
            {
                Log.KernelUnreachable(log, environment.KernelSocket, e);
                return 69; // EX_UNAVAILABLE: the supervisor retries
            }

            journal.Sync(); // releases of domains that went while we were down
            guests.Source = kernel;
        }

        var restoredWatches = 0;
        foreach (var domain in state.Domains.Values)
        {
            var conn = guests.Attach(domain);
            conn.OutlivedRestart = true;
            foreach (var w in applier.Watches.GetValueOrDefault(domain.DomainId) ?? [])
            {
                state.Watches.Add(new Watch(conn, w.Path, w.Token, w.Relative));
                restoredWatches++;
            }
        }

        Log.Loaded(log, state.Tree.Count, state.Domains.Count, restoredWatches, snapshotSeq, replay.Applied, replay.Skipped, replay.DroppedBytes, clock.ElapsedMilliseconds);

        using var reactor = new EpollReactor("xenstored-events");
        RingHandoffListener? handoff = null;
        if (options.RingHandoff is not null)
        {
            handoff = new RingHandoffListener(options.RingHandoff, reactor,
                domid => loop.Invoke(() => guests.RingArrived(domid, state.Domains.GetValueOrDefault(domid))));
            guests.Source = handoff;
            _ = handoff.AcceptLoopAsync();
        }

        using var listener = new SocketListener(options.Socket, loop);
        listener.Dropped += c => Log.Dropped(log, c.Name, c.DropReason ?? "closed");
        loop.Start();
        kernel?.Start(reactor);
        _ = listener.AcceptLoopAsync();

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        _ = loop.Completion.ContinueWith(_ => stop.Set(), TaskScheduler.Default);

        Log.Serving(log, options.Socket);
        Console.Out.WriteLine($"ready socket={options.Socket}");
        Console.Out.Flush();
        stop.Wait();

        loop.Stop();
        try
        {
            loop.Completion.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException e)
        {
            Log.LoopFailed(log, e.InnerException ?? e);
            return 70;
        }

        Log.Stopping(log, loop.Processor.Requests, loop.Batches, journal.Syncs, loop.Compactions);
        handoff?.Dispose();
        kernel?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        return exitCode;
    }

    /// <summary>
    /// Opens our service channel, follows domain deaths, and releases the introduced domains that are gone
    /// (after a restart: destroyed while we were down) before anything is attached. Before the loop starts.
    /// </summary>
    private static KernelRingSource OpenKernel(ServiceEnvironment environment, StoreLoop loop, XsRequestProcessor processor, XenstoreState state, ILogger log, Action lost)
    {
        var timeout = TimeSpan.FromSeconds(20);
        var kernel = KernelRingSource.OpenAsync(environment.KernelSocket, environment.Token, loop, log).WaitAsync(timeout).GetAwaiter().GetResult();
        kernel.SubscribeAsync(
            dying => loop.Invoke(() =>
            {
                if (processor.ReleaseVanished(dying))
                {
                    Log.DomainVanished(log, dying);
                }
            }),
            error =>
            {
                Log.KernelLost(log, error);
                lost();
            }).WaitAsync(timeout).GetAwaiter().GetResult();
        var live = kernel.ListDomainsAsync().WaitAsync(timeout).GetAwaiter().GetResult();
        var vanished = 0;
        foreach (var id in state.Domains.Keys.Where(id => !live.Contains(id)).ToArray())
        {
            processor.ReleaseVanished(id);
            Log.DomainVanished(log, id);
            vanished++;
        }

        Log.KernelChannelOpen(log, kernel.DomainId, live.Count, vanished);
        return kernel;
    }
}
