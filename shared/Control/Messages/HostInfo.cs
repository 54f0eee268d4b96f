namespace Disagg.Control.Messages;

/// <summary>`disagg info`: the host as the kernel sees it.</summary>
public sealed record HostInfo(int Pcpus, long TotalMemoryKiB, long FreeMemoryKiB, string KernelVersion, string XenInterface, long UptimeNs) : ControlMessage;
