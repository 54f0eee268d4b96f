namespace Disagg.Control.Messages;

/// <summary>
/// The kernel's resource counters, for leak checks (`disagg fault run` takes them before and after a run):
/// domains alive, event channel ports bound across every domain and service, grant maps services hold,
/// shared pages services allocated, and the host memory budget's free pages.
/// </summary>
public sealed record GetHostCounters : ControlMessage;

/// <summary>The reply to <see cref="GetHostCounters"/>.</summary>
public sealed record HostCounters(int Domains, int Services, int EventPorts, int GrantMaps, int SharedPages, long FreeMemoryKiB, long TotalMemoryKiB) : ControlMessage;
