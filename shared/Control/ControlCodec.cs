using System.Buffers;
using System.Buffers.Binary;
using Disagg.Control.Messages;
using Nerdbank.MessagePack;

namespace Disagg.Control;

/// <summary>
/// Frames on a control connection: a little-endian u32 payload length, then one MessagePack-
/// encoded <see cref="ControlMessage"/>. The peer is untrusted: a frame over
/// <see cref="MaxFrame"/> or a payload that does not decode is a protocol violation (the
/// connection is closed), never an exception escaping into the server.
/// </summary>
public static class ControlCodec
{
    public const int HeaderSize = 4;

    /// <summary>The largest payload any peer may send: a kernel image for the control domain.</summary>
    public const int MaxFrame = 64 << 20;

    /// <summary>The limit before a peer has said who it is (Hello): a stranger cannot make us buffer much.</summary>
    public const int MaxUnauthenticatedFrame = 4096;

    public const int ProtocolVersion = 1;

    public static byte[] Encode(ControlMessage message)
    {
        var tag = ControlWire.TagOf(message);
        if (tag < 0)
        {
            throw new InvalidOperationException($"{message.GetType().Name} is not a control message case (no union tag)");
        }

        return MessagePackFields.EncodeUnionFrame(tag, message, ControlWire.WriteBody, MaxFrame);
    }

    public static FrameStatus TryDecode(ReadOnlySpan<byte> buffer, out ControlMessage? message, out int consumed, out string? error) =>
        TryDecode(buffer, MaxFrame, out message, out consumed, out error);

    /// <summary>Decodes one frame no larger than <paramref name="maxFrame"/> (the limit for this peer).</summary>
    public static FrameStatus TryDecode(ReadOnlySpan<byte> buffer, int maxFrame, out ControlMessage? message, out int consumed, out string? error)
    {
        message = null;
        consumed = 0;
        error = null;
        if (buffer.Length < HeaderSize)
        {
            return FrameStatus.Incomplete;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        if (length > (uint)maxFrame)
        {
            error = $"frame of {length} bytes is over the {maxFrame}-byte limit";
            return FrameStatus.ProtocolViolation;
        }

        if (buffer.Length < HeaderSize + (int)length)
        {
            return FrameStatus.Incomplete;
        }

        try
        {
            message = DecodePayload(buffer.Slice(HeaderSize, (int)length).ToArray(), out error);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            error = "undecodable control message: " + e.Message;
            return FrameStatus.ProtocolViolation;
        }

        if (error is not null)
        {
            message = null;
            return FrameStatus.ProtocolViolation;
        }

        if (message is null)
        {
            error = "empty control message";
            return FrameStatus.ProtocolViolation;
        }

        consumed = HeaderSize + (int)length;
        return FrameStatus.Message;
    }

    /// <summary>[tag, message]: the tag picks the case (an unknown one is an error, not an exception), then nothing may follow.</summary>
    private static ControlMessage? DecodePayload(ReadOnlyMemory<byte> payload, out string? error)
    {
        var message = MessagePackFields.ReadUnion<ControlMessage>(payload, ControlWire.ReadBody, out error);
        error = error is null ? null : "undecodable control message: " + error;
        return message;
    }
}
