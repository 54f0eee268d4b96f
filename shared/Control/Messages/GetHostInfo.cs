namespace Disagg.Control.Messages;

public sealed record GetHostInfo : ControlMessage;
