using System.Buffers;
using System.Buffers.Binary;
using Nerdbank.MessagePack;

namespace Disagg.Toolstack.Protocol;

/// <summary>
/// Frames on the daemon socket, as on the kernel's control socket (shared/Control): a
/// little-endian u32 payload length, then one MessagePack <see cref="DaemonMessage"/>. The socket
/// is 0600, but a frame that is too large or does not decode still only closes that connection. The payload is
/// the [DerivedTypeShape] union's own form, [tag, message], written and read by the generated DaemonWire
/// (tools/gen-control-wire.py): no converter is built at run time, which cost every CLI command ~200 ms.
/// </summary>
internal static class DaemonCodec
{
    public const int HeaderSize = 4;

    /// <summary>No CLI message carries more than a config path or a console chunk.</summary>
    public const int MaxFrame = 16 << 20;

    public static byte[] Encode(DaemonMessage message) =>
        Disagg.Control.MessagePackFields.EncodeUnionFrame(DaemonWire.TagOf(message), message, DaemonWire.WriteBody, MaxFrame);

    /// <summary>Decodes one frame; false with an error when the peer broke the framing, false without one when more bytes are needed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> buffer, out DaemonMessage? message, out int consumed, out string? error)
    {
        message = null;
        consumed = 0;
        error = null;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer);
        if (length > MaxFrame)
        {
            error = $"frame of {length} bytes is over the {MaxFrame}-byte limit";
            return false;
        }

        if (buffer.Length < HeaderSize + (int)length)
        {
            return false;
        }

        try
        {
            message = DecodePayload(buffer.Slice(HeaderSize, (int)length).ToArray(), out error);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            error = "undecodable message: " + e.Message;
            return false;
        }

        if (error is not null)
        {
            message = null;
            return false;
        }

        if (message is null)
        {
            error = "empty message";
            return false;
        }

        consumed = HeaderSize + (int)length;
        return true;
    }

    /// <summary>[tag, message]: an unknown tag is an error, not an exception; nothing may follow.</summary>
    private static DaemonMessage? DecodePayload(ReadOnlyMemory<byte> payload, out string? error)
    {
        var message = Disagg.Control.MessagePackFields.ReadUnion<DaemonMessage>(payload, DaemonWire.ReadBody, out error);
        error = error is null ? null : "undecodable message: " + error;
        return message;
    }
}
