namespace Disagg.Toolstack.Protocol;

/// <summary>`disagg service list`.</summary>
internal sealed record ServiceListRequest : DaemonMessage;

internal sealed record ServiceListReply(IReadOnlyList<ServiceRow> Services) : DaemonMessage;

/// <summary>`disagg service restart|kill NAME`.</summary>
internal sealed record ServiceActionRequest(string Name, ServiceAction Action) : DaemonMessage;

/// <summary>
/// `disagg service swap NAME --binary PATH`: a planned stop of the running process and a start of
/// PATH under the same domain id, token and state dir. The reply comes once the new binary serves,
/// or says it did not within TimeoutSeconds (it may still come up).
/// </summary>
internal sealed record ServiceSwapRequest(string Name, string Binary, int TimeoutSeconds) : DaemonMessage;

/// <summary>`service add NAME --kind netback|blkback`: one more driver domain of that kind; the reply comes once it serves.</summary>
internal sealed record ServiceAddRequest(string Name, string Kind) : DaemonMessage;

/// <summary>What to do to a service. Wire values: append-only.</summary>
internal enum ServiceAction
{
    /// <summary>A planned stop and start; not counted against the restart policy.</summary>
    Restart = 0,

    /// <summary>SIGKILL, for fault injection: the supervisor sees a crash.</summary>
    Kill = 1,

    /// <summary>SIGSTOP, for fault injection: the process hangs (its guests' devices stall) until Continue.</summary>
    Stop = 2,

    /// <summary>SIGCONT: a stopped service runs on.</summary>
    Continue = 3,

    /// <summary>SIGSEGV, for fault injection: a crash as a bug would cause it; the supervisor restarts it.</summary>
    Segv = 4,
}

/// <summary>One row of `disagg service list`.</summary>
internal sealed record ServiceRow(
    string Name,
    int DomainId,
    int? Pid,
    string State,
    long UptimeMs,
    int Restarts,
    int Swaps,
    string Program,
    long RssBytes,
    string? LastExit);
