namespace Disagg.Toolstack.Protocol;

/// <summary>The kernel's resource counters (its HostCounters), for a fault run's leak check.</summary>
internal sealed record HostCountersRequest : DaemonMessage;

/// <summary>Domains, service domains, bound event ports, services' grant maps and shared pages, host memory.</summary>
internal sealed record HostCountersReply(int Domains, int Services, int EventPorts, int GrantMaps, int SharedPages, long FreeMemoryKiB, long TotalMemoryKiB) : DaemonMessage;

/// <summary>
/// `disagg fault inject NAME KIND`: arm a channel fault in a running service. Refused unless the host was started
/// with --fault-injection (a normal host's services do not listen for faults at all).
/// </summary>
internal sealed record ChannelFaultRequest(string Name, Disagg.Control.Messages.ChannelFaultKind Kind, int Count, int DelayMs) : DaemonMessage;
