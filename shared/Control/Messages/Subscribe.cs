namespace Disagg.Control.Messages;

/// <summary>Asks for <see cref="DomainEvent"/>s on this connection from now on (the kernel pushes; nobody polls).</summary>
public sealed record Subscribe : ControlMessage;
