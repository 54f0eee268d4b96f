namespace Disagg.Control;

/// <summary>What <see cref="ControlCodec.TryDecode"/> found at the front of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>A whole frame was decoded.</summary>
    Message,
    /// <summary>The frame is not all there yet: read more.</summary>
    Incomplete,
    /// <summary>The peer broke the protocol (oversized frame, bad MessagePack, unknown message): close the connection.</summary>
    ProtocolViolation,
}
