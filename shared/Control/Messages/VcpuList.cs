namespace Disagg.Control.Messages;

public sealed record VcpuList(IReadOnlyList<VcpuSummary> Vcpus) : ControlMessage;
