using System.Diagnostics;
using Disagg.Service.Faults;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Durability;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// The state directory loaded into the store: the snapshot, then the journal after it (a torn tail dropped),
/// and the journal opened for appending where the valid records end. Made once, when the host composes us.
/// </summary>
public sealed class RestoredStore : IDisposable
{
    public RestoredStore(XenstoredOptions options, XenstoreState state, ChannelFaults? faults = null)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(options.StateDirectory);
        Applier = new RecordApplier(state);
        SnapshotSequence = Snapshot.Load(options.StateDirectory, Applier);
        Replay = JournalReplay.Run(options.StateDirectory, SnapshotSequence, Applier);
        Journal = new Journal(options.StateDirectory, Replay.ValidLength, Replay.LastSequence, faults);
        LoadTime = clock.Elapsed;
    }

    /// <summary>What was replayed; its guests' watches wait here until their connections exist.</summary>
    public RecordApplier Applier { get; }

    public ulong SnapshotSequence { get; }

    public JournalReplay Replay { get; }

    public Journal Journal { get; }

    public TimeSpan LoadTime { get; }

    public void Dispose() => Journal.Dispose();
}
