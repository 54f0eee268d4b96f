namespace Disagg.Control.Messages;

public sealed record DomainList(IReadOnlyList<DomainSummary> Domains) : ControlMessage;
