namespace Disagg.Control.Messages;

/// <summary>A domain changed state: created, paused, running, shut down (with its reason), crashed, destroyed.</summary>
public sealed record DomainEvent(int DomainId, string State, int ShutdownReason, long TimestampNs) : ControlMessage;
