using Microsoft.Extensions.Logging;

namespace Disagg.Netback.Hosting;

/// <summary>One line per event an operator cares about (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "serving {Devices} vif device(s) found in xenstore, {Uplinks} uplink(s), domain {DomainId}, in {Ms} ms")]
    public static partial void Started(ILogger log, int devices, int uplinks, int domainId, long ms);

    [LoggerMessage(2, LogLevel.Information, "{Device} of domain {DomainId}: bridge {Bridge}, mac {Mac}, mtu {Mtu}")]
    public static partial void VifAdded(ILogger log, int domainId, string device, string bridge, string mac, int mtu);

    [LoggerMessage(3, LogLevel.Information, "{Device} of domain {DomainId} connected to {Bridge}: rings {TxRef}/{RxRef}, ports {TxPort}/{RxPort}")]
    public static partial void VifConnected(ILogger log, int domainId, string device, string bridge, uint txRef, uint rxRef, int txPort, int rxPort);






    [LoggerMessage(9, LogLevel.Debug, "{Device} of domain {DomainId}: closing port {Port}: {Reason}")]
    public static partial void PortCloseFailed(ILogger log, int domainId, string device, int port, string reason);

    [LoggerMessage(10, LogLevel.Information, "uplink {Tap} on bridge {Bridge}")]
    public static partial void UplinkAttached(ILogger log, string bridge, string tap);

    [LoggerMessage(11, LogLevel.Error, "cannot reach {What}: {Reason}")]
    public static partial void Unreachable(ILogger log, string what, string reason);

    [LoggerMessage(12, LogLevel.Error, "switch stopped: {Reason}")]
    public static partial void SwitchStopped(ILogger log, string reason);


    [LoggerMessage(14, LogLevel.Warning, "cannot write the status file in {Directory}: {Reason} (switching goes on; logged again only after a success)")]
    public static partial void StatusWriteFailed(ILogger log, string directory, string reason);

    [LoggerMessage(16, LogLevel.Information, "{Device} of domain {DomainId}: announced {Mac} on {Bridge} (RARP: the guest arrived from elsewhere)")]
    public static partial void VifAnnounced(ILogger log, int domainId, string device, string bridge, string mac);

    [LoggerMessage(15, LogLevel.Error, "xenstored did not come back within {Seconds} s ({Reason}); exiting for a restart")]
    public static partial void XenstoreGone(ILogger log, double seconds, string reason);
}
