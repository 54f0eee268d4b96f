namespace Disagg.Toolstack.Protocol;

/// <summary>The kernel's resource counters (its HostCounters), for a fault run's leak check.</summary>
internal sealed record HostCountersRequest : DaemonMessage;

/// <summary>Domains, service domains, bound event ports, services' grant maps and shared pages, host memory.</summary>
internal sealed record HostCountersReply(int Domains, int Services, int EventPorts, int GrantMaps, int SharedPages, long FreeMemoryKiB, long TotalMemoryKiB) : DaemonMessage;
