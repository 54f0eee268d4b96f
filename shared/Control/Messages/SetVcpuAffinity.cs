namespace Disagg.Control.Messages;

/// <summary>vcpu-pin: hard affinity of one vCPU (or every vCPU when Vcpu is -1) as a pCPU bit mask.</summary>
public sealed record SetVcpuAffinity(int DomainId, int Vcpu, ulong Mask) : ControlMessage;
