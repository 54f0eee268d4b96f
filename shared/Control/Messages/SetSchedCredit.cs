namespace Disagg.Control.Messages;

public sealed record SetSchedCredit(int DomainId, int Weight, int Cap) : ControlMessage;
