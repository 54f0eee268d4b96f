using Microsoft.Extensions.Logging;

namespace Disagg.Xenstored.Hosting;

/// <summary>The lines an operator cares about, one per event.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "loaded {Nodes} nodes, {Domains} domains, {Watches} guest watches: snapshot seq {SnapshotSeq}, {Applied} journal records applied, {Skipped} already in the snapshot, {DroppedBytes} torn bytes dropped, in {ElapsedMs} ms")]
    public static partial void Loaded(ILogger logger, int nodes, int domains, int watches, ulong snapshotSeq, int applied, int skipped, long droppedBytes, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "serving on {Socket}")]
    public static partial void Serving(ILogger logger, string socket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "dropped {Connection}: {Reason}")]
    public static partial void Dropped(ILogger logger, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: {Requests} requests, {Batches} batches, {Syncs} journal syncs, {Compactions} compactions")]
    public static partial void Stopping(ILogger logger, long requests, long batches, long syncs, long compactions);

    [LoggerMessage(Level = LogLevel.Critical, Message = "event loop failed; stopping so the supervisor restarts us from the journal")]
    public static partial void LoopFailed(ILogger logger, Exception error);
}
