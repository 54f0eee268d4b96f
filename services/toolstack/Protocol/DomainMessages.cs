using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Protocol;

/// <summary>`disagg create CONFIG [-p] [KEY=VALUE...]`: ConfigPath is absolute; the daemon reads it with the overrides applied (and keeps the result for on_reboot=restart).</summary>
internal sealed record CreateRequest(string ConfigPath, bool Paused, IReadOnlyList<string> Overrides) : DaemonMessage;

internal sealed record CreatedReply(int DomainId, string Name, IReadOnlyList<string> Warnings) : DaemonMessage;

/// <summary>pause, unpause, shutdown, reboot, destroy of one domain (by name or id). Wait: until shut down and acted on.</summary>
internal sealed record DomainActionRequest(string Domain, DomainAction Action, bool Wait) : DaemonMessage;

/// <summary>The xl verbs on one domain. Wire values: append-only.</summary>
internal enum DomainAction
{
    Pause = 0,
    Unpause = 1,
    Shutdown = 2,
    Reboot = 3,
    Destroy = 4,
}

/// <summary>`disagg list` and `disagg top` (which computes CPU % from two lists).</summary>
/// <summary>`list`; Long (`list -l`) asks for each guest's config as well.</summary>
internal sealed record ListRequest(bool Long = false) : DaemonMessage;

internal sealed record DomainListReply(IReadOnlyList<DomainRow> Domains, long SampledNs) : DaemonMessage;

/// <summary>One domain, as xl list shows it, plus what top and uptime need; Reason: why the kernel crashed it, when it did.</summary>
internal sealed record DomainRow(
    string Name,
    int Id,
    [property: JsonPropertyName("mem_mib")] long MemoryMiB,
    [property: JsonPropertyName("maxmem_mib")] long MaxMemoryMiB,
    int Vcpus,
    string State,
    long CpuTimeNs,
    long UptimeMs,
    [property: JsonIgnore] string? ConfigJson = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

/// <summary>mem-set (TargetMiB) and mem-max (MaxMiB); null leaves one alone.</summary>
internal sealed record MemoryRequest(string Domain, long? TargetMiB, long? MaxMiB) : DaemonMessage;

/// <summary>vcpu-set: how many vCPUs are online.</summary>
internal sealed record VcpuSetRequest(string Domain, int Count) : DaemonMessage;

/// <summary>vcpu-pin DOMAIN VCPU CPUS: Vcpu -1 means all; Cpus in xl's syntax ("0-3,^2", "all").</summary>
internal sealed record VcpuPinRequest(string Domain, int Vcpu, string Cpus) : DaemonMessage;

/// <summary>vcpu-list [DOMAIN].</summary>
internal sealed record VcpuListRequest(string? Domain) : DaemonMessage;

internal sealed record VcpuListReply(IReadOnlyList<VcpuRow> Vcpus) : DaemonMessage;

internal sealed record VcpuRow(string Name, int Id, int Vcpu, int Pcpu, string State, long CpuTimeNs, string Affinity, bool Online);

/// <summary>sched-credit [-d DOMAIN [-w WEIGHT] [-c CAP]]: sets when given, then lists.</summary>
internal sealed record SchedCreditRequest(string? Domain, int? Weight, int? Cap) : DaemonMessage;

internal sealed record SchedCreditReply(IReadOnlyList<SchedCreditRow> Domains) : DaemonMessage;

internal sealed record SchedCreditRow(string Name, int Id, int Weight, int Cap);
