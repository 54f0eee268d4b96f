namespace Disagg.Control.Messages;

/// <summary>One operation on one domain (pause, unpause, destroy, shutdown, dirty logging).</summary>
public sealed record DomainCommand(int DomainId, DomainOperation Operation, int Reason = 0) : ControlMessage;
