namespace Disagg.Toolstack.Supervision;

/// <summary>A snapshot of one service for `disagg service list`.</summary>
public sealed record ServiceStatus(
    string Name,
    int DomainId,
    int? Pid,
    ServiceState State,
    TimeSpan Uptime,
    int Restarts,
    int Swaps,
    string Program,
    long RssBytes,
    string? LastExit);
