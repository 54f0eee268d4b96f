using System.Diagnostics;
using System.Runtime.InteropServices;
using Disagg.Interop;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Durability;
using Disagg.Xenstored.Transport.Ring;
using Disagg.Xenstored.Transport.Socket;
using Disagg.Xenstored.Watches;
using Microsoft.Extensions.Logging;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// The process: load the state directory (snapshot + journal, torn tail dropped), re-create
/// introduced domains' connections with their watches, then serve the socket (and ring hand-offs)
/// from one event loop until SIGTERM. Prints "ready socket=PATH" once clients can connect.
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
        loop.Processor = new XsRequestProcessor(state, journal, guests);
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
        _ = listener.AcceptLoopAsync();

        using var stop = new ManualResetEventSlim();
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
        return 0;
    }
}
