namespace Disagg.Control.Messages;

public sealed record DomainCreated(int DomainId, int ConsolePort, int XenstorePort, ulong ConsoleFrame, ulong XenstoreFrame) : ControlMessage;
