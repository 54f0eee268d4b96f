namespace Disagg.Control.Messages;

public sealed record ServiceRegistered(int DomainId, string Token) : ControlMessage;
