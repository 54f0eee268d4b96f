namespace Disagg.Control.Messages;

public sealed record ListVcpus(int DomainId) : ControlMessage;
