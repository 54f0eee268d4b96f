namespace Disagg.Control.Messages;

/// <summary>
/// What a domain wrote through the SBI console (legacy putchar, DBCN) — early boot output of every
/// guest, before or instead of a PV console ring: up to MaxBytes from Offset. Control domain only.
/// </summary>
public sealed record ReadConsole(int DomainId, long Offset, int MaxBytes) : ControlMessage;
