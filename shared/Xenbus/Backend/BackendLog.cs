using Microsoft.Extensions.Logging;

namespace Disagg.Xenbus.Backend;

/// <summary>The life cycle's lines an operator cares about, one per event (the services log their devices' details).</summary>
internal static partial class BackendLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device} of domain {DomainId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, int domainId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device} of domain {DomainId} disconnected (frontend {FrontendState})")]
    public static partial void Disconnected(ILogger logger, int domainId, string device, string frontendState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Device} of domain {DomainId}: the frontend broke its ring: {Reason}; disconnected")]
    public static partial void RingFault(ILogger logger, int domainId, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device} of domain {DomainId}: directory removed, device forgotten")]
    public static partial void Forgotten(ILogger logger, int domainId, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "xenstore refused an operation on {Path}: {Reason}")]
    public static partial void XenstoreRefused(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Type} backend: xenstored connection lost; reconnecting (rings keep being served)")]
    public static partial void XenstoreLost(ILogger logger, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Type} backend: a xenstore request failed: {Reason}")]
    public static partial void XenstoreRequestFailed(ILogger logger, string type, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Type} backend: xenstored back, {Devices} devices reconciled")]
    public static partial void XenstoreBack(ILogger logger, string type, int devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Type} backend: xenstored went again while we connected ({Reason}); connecting again")]
    public static partial void XenstoreWentAgain(ILogger logger, string type, string reason);
}
