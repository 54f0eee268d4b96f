namespace Disagg.Control.Messages;

/// <summary>One row of `disagg vcpu-list`.</summary>
public sealed record VcpuSummary(int DomainId, int Vcpu, int Pcpu, string State, long CpuTimeNs, ulong Affinity, bool Online);
