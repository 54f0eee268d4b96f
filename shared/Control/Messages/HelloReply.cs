namespace Disagg.Control.Messages;

/// <summary>Who the kernel takes the peer to be, and what it is talking to.</summary>
public sealed record HelloReply(int DomainId, bool Privileged, string KernelVersion, int ProtocolVersion) : ControlMessage;
