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

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: {Requests} requests, {Batches} batches, {Writes} journal writes, {Syncs} journal syncs, {Compactions} compactions")]
    public static partial void Stopping(ILogger logger, long requests, long batches, long writes, long syncs, long compactions);

    [LoggerMessage(Level = LogLevel.Critical, Message = "event loop failed; stopping so the supervisor restarts us from the journal")]
    public static partial void LoopFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "kernel channel open as domain {DomainId}: {Live} live domains name us, {Vanished} introduced domains are gone and were released")]
    public static partial void KernelChannelOpen(ILogger logger, int domainId, int live, int vanished);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId}: ring frame {Frame} mapped, its port {GuestPort} bound as our port {LocalPort}")]
    public static partial void RingAttached(ILogger logger, uint domainId, ulong frame, uint guestPort, int localPort);

    [LoggerMessage(Level = LogLevel.Warning, Message = "domain {DomainId}: ring not attached: {Reason}")]
    public static partial void RingRefused(ILogger logger, uint domainId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "domain {DomainId}: the kernel did not answer the port close / unmap in time")]
    public static partial void KernelSlow(ILogger logger, uint domainId);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {DomainId} is gone from the kernel: released")]
    public static partial void DomainVanished(ILogger logger, uint domainId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "lost the kernel connection; stopping so the supervisor restarts us once the kernel is back")]
    public static partial void KernelLost(ILogger logger, Exception? error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot open the kernel channel at {Socket}")]
    public static partial void KernelUnreachable(ILogger logger, string socket, Exception error);
}
