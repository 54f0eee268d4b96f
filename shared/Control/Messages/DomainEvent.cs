namespace Disagg.Control.Messages;

/// <summary>
/// A domain changed state: created, paused, running, shut down (with its reason), crashed, destroyed. Detail: why
/// the kernel crashed it (a device model's garbage answer or silence), "" otherwise.
/// </summary>
public sealed record DomainEvent(int DomainId, string State, int ShutdownReason, long TimestampNs, string Detail = "") : ControlMessage;
