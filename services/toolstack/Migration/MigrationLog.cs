using Microsoft.Extensions.Logging;

namespace Disagg.Toolstack.Migration;

/// <summary>One line per migration event an operator cares about, in the daemon's log.</summary>
internal sealed partial class MigrationLog(ILogger logger)
{
    [LoggerMessage(Level = LogLevel.Information, Message = "migration: listening on {Endpoint} ({Arch} host)")]
    public partial void Listening(string endpoint, string arch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: refused {Peer}: {Reason}")]
    public partial void Refused(string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "migration: domain '{Name}' arrived from {Peer} as domain {DomainId}")]
    public partial void Arrived(string name, string peer, int domainId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: incoming '{Name}' from {Peer} failed: {Reason}")]
    public partial void IncomingFailed(string name, string peer, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "migration: domain '{Name}' moved to {Target} in {Rounds} round(s), {Pages} pages, {TotalMs:F1} ms, downtime {DowntimeMs:F2} ms")]
    public partial void Left(string name, string target, int rounds, long pages, double totalMs, double downtimeMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: domain '{Name}' to {Target} failed, it runs on here: {Reason}")]
    public partial void OutgoingFailed(string name, string target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: domain '{Name}' runs on {Target}, but blkback here still held {Held} {Seconds:F0} s after its domain went")]
    public partial void DisksHeld(string name, string target, string held, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: domain '{Name}' runs on {Target}, without its state from here (the offered config's devices there, its own xenstore nodes lost): {Reason}")]
    public partial void StateLost(string name, string target, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "migration: domain '{Name}' from {Peer}: {Reason}")]
    public partial void DevicesLate(string name, string peer, string reason);
}
