namespace Disagg.Control.Messages;

/// <summary>vcpu-set: how many vCPUs are online (at most the domain's maximum).</summary>
public sealed record SetVcpusOnline(int DomainId, int Count) : ControlMessage;
