using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Protocol;

/// <summary>`disagg host status`.</summary>
internal sealed record HostStatusRequest : DaemonMessage;

/// <summary>`disagg host down`: guests get TimeoutSeconds to shut down cleanly before they are destroyed.</summary>
internal sealed record HostDownRequest(int TimeoutSeconds) : DaemonMessage;

/// <summary>The host as the daemon sees it. KernelState is "running" or says plainly how the kernel died.</summary>
internal sealed record HostStatusReply(
    string StateDir,
    int DaemonPid,
    int? KernelPid,
    string KernelState,
    string KernelSocket,
    string DaemonSocket,
    long UptimeMs,
    int Guests,
    IReadOnlyList<ServiceRow> Services) : DaemonMessage;

/// <summary>`disagg info`: the kernel's host info plus what the toolstack knows (state dir, sockets).</summary>
internal sealed record InfoRequest : DaemonMessage;

internal sealed record InfoReply(
    int Pcpus,
    [property: JsonPropertyName("total_memory_mib")] long TotalMemoryMiB,
    [property: JsonPropertyName("free_memory_mib")] long FreeMemoryMiB,
    string KernelVersion,
    string XenInterface,
    string ToolstackVersion,
    long UptimeMs,
    string StateDir,
    IReadOnlyDictionary<string, string> Sockets) : DaemonMessage;

/// <summary>`disagg dmesg`: the kernel message log from Offset.</summary>
internal sealed record DmesgRequest(long Offset, bool Clear = false) : DaemonMessage;

internal sealed record DmesgReply(byte[] Text, long NextOffset, long Missed) : DaemonMessage;

/// <summary>The request was carried out; Message says what happened, for the user.</summary>
internal sealed record OkReply(string Message) : DaemonMessage;

/// <summary>The request failed: a message that names the domain (or service) and the reason.</summary>
internal sealed record ErrorReply(string Message) : DaemonMessage;
