namespace Disagg.Control.Messages;

/// <summary>Log bytes, the offset to ask from next, and how many bytes were lost to the ring before Offset.</summary>
public sealed record MessageLogChunk(byte[] Text, long NextOffset, long Missed) : ControlMessage;
