using Microsoft.Extensions.Logging;

namespace Disagg.Blkback.Hosting;

/// <summary>The lines an operator cares about, one per event.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "kernel channel open as domain {DomainId}: {Slots} request slots of {SlotPages} pages, up to {MaxIndirect} indirect segments")]
    public static partial void ChannelOpen(ILogger logger, int domainId, int slots, int slotPages, int maxIndirect);

    [LoggerMessage(Level = LogLevel.Information, Message = "serving {Devices} devices from xenstore in {ElapsedMs} ms")]
    public static partial void Serving(ILogger logger, int devices, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "vbd {DomainId}/{Device}: {Image} ({Format}, mode {Mode}, {Sectors} sectors) opened, features published")]
    public static partial void DeviceReady(ILogger logger, int domainId, int device, string image, string format, string mode, long sectors);


    [LoggerMessage(Level = LogLevel.Information, Message = "vbd {DomainId}/{Device}: connected, ring grant {Ref} ({Pages} page(s)), frontend port {RemotePort} bound as our port {LocalPort}")]
    public static partial void Connected(ILogger logger, int domainId, int device, uint @ref, int pages, int remotePort, int localPort);

    [LoggerMessage(Level = LogLevel.Information, Message = "vbd {DomainId}/{Device}: {Image} flushed (fdatasync) and closed")]
    public static partial void Released(ILogger logger, int domainId, int device, string image);

    [LoggerMessage(Level = LogLevel.Error, Message = "vbd {DomainId}/{Device}: {Image}: the flush before closing failed: {Reason}")]
    public static partial void ReleaseFlushFailed(ILogger logger, int domainId, int device, string image, string reason);








    [LoggerMessage(Level = LogLevel.Critical, Message = "the I/O loop cannot go on; exiting so the supervisor restarts us (frontends reconnect from InitWait and re-issue)")]
    public static partial void LoopFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "xenstored did not come back within {Seconds} s ({Reason}); exiting so the supervisor restarts us")]
    public static partial void XenstoreGone(ILogger logger, double seconds, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "lost the kernel connection; exiting so the supervisor restarts us once the kernel is back")]
    public static partial void KernelLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot write the status file {Path}: {Reason} (serving goes on; logged again only after a success)")]
    public static partial void StatusFailed(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: {Requests} requests, {Refused} refused, {CopyFailures} failed copies, {IoFailures} failed I/O")]
    public static partial void Stopping(ILogger logger, long requests, long refused, long copyFailures, long ioFailures);
}
