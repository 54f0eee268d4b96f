namespace Disagg.Control.Messages;

public sealed record ListDomains : ControlMessage;
