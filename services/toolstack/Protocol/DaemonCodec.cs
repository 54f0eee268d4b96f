using System.Buffers.Binary;
using Nerdbank.MessagePack;

namespace Disagg.Toolstack.Protocol;

/// <summary>
/// Frames on the daemon socket, as on the kernel's control socket (shared/Control): a
/// little-endian u32 payload length, then one MessagePack <see cref="DaemonMessage"/>. The socket
/// is 0600, but a frame that is too large or does not decode still only closes that connection.
/// </summary>
internal static class DaemonCodec
{
    public const int HeaderSize = 4;

    /// <summary>No CLI message carries more than a config path or a console chunk.</summary>
    public const int MaxFrame = 16 << 20;

    private static readonly MessagePackSerializer Serializer = new();

    public static byte[] Encode(DaemonMessage message)
    {
        var payload = Serializer.Serialize<DaemonMessage, DaemonWitness>(message);
        var frame = new byte[HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, HeaderSize);
        return frame;
    }

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
            message = Serializer.Deserialize<DaemonMessage, DaemonWitness>(buffer.Slice(HeaderSize, (int)length).ToArray());
        }
        catch (MessagePackSerializationException e)
        {
            error = "undecodable message: " + e.Message;
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
}
