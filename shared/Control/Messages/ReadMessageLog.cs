namespace Disagg.Control.Messages;

/// <summary>dmesg: up to MaxBytes of the kernel message log from Offset.</summary>
public sealed record ReadMessageLog(long Offset, int MaxBytes) : ControlMessage;
