namespace Disagg.Control.Messages;

/// <summary>Console bytes of one domain, the offset to ask from next, and how many bytes its buffer lost before Offset.</summary>
public sealed record ConsoleChunk(int DomainId, byte[] Text, long NextOffset, long Missed) : ControlMessage;
