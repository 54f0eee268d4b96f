namespace Disagg.Control.Messages;

/// <summary>
/// dmesg: up to MaxBytes of the kernel message log from Offset. ClearUpTo (`xl dmesg -c`) first drops
/// the log's text before that offset for every later reader starting at or before it: the caller names
/// exactly what it has shown, so a line written between its read and its clear is never lost.
/// </summary>
public sealed record ReadMessageLog(long Offset, int MaxBytes, long ClearUpTo = 0) : ControlMessage;
