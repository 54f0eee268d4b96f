using System.Buffers;
using Disagg.Control.Messages;
using Nerdbank.MessagePack;

namespace Disagg.Control;

/// <summary>
/// What the generated message codecs share (tools/gen-control-wire.py writes ControlWire.g.cs here and the
/// toolstack's DaemonWire.g.cs: a writer and a reader per message, no converter built at run time). Input is
/// untrusted: anything malformed throws <see cref="MessagePackSerializationException"/> (or the reader's
/// EndOfStream/Overflow), which the codecs turn into a protocol violation.
/// </summary>
public static class MessagePackFields
{
    public delegate T ElementReader<T>(ref MessagePackReader reader);

    /// <summary>Writes a message's map (its union tag is written by the caller).</summary>
    public delegate void UnionBodyWriter<T>(ref MessagePackWriter writer, T message);

    /// <summary>
    /// One frame of a length-prefixed socket: the u32 little-endian payload length, then the union's wire form
    /// [tag, message]. A payload over <paramref name="maxFrame"/> is refused here rather than by the peer.
    /// </summary>
    public static byte[] EncodeUnionFrame<T>(int tag, T message, UnionBodyWriter<T> body, int maxFrame)
        where T : class
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        buffer.Advance(FrameBuffer.HeaderSize); // the length, once known
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(tag);
        body(ref writer, message);
        writer.Flush();
        var length = buffer.WrittenCount - FrameBuffer.HeaderSize;
        if (length > maxFrame)
        {
            throw new InvalidOperationException($"{message.GetType().Name} is {length} bytes, over the {maxFrame}-byte frame limit");
        }

        var frame = buffer.WrittenSpan.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)length);
        return frame;
    }

    /// <summary>Reads the map of union case <paramref name="tag"/>; null for a tag that is not a case.</summary>
    public delegate T? UnionBodyReader<T>(int tag, ref MessagePackReader reader)
        where T : class;

    /// <summary>
    /// A [DerivedTypeShape] union's wire form, [tag, message]: an unknown tag or trailing bytes are errors (null
    /// with <paramref name="error"/> set), not exceptions; a malformed body throws as the field readers do.
    /// </summary>
    public static T? ReadUnion<T>(ReadOnlyMemory<byte> payload, UnionBodyReader<T> body, out string? error)
        where T : class
    {
        error = null;
        var reader = new MessagePackReader(payload);
        if (reader.NextMessagePackType != MessagePackType.Array || reader.ReadArrayHeader() != 2)
        {
            error = "not a [tag, message] pair";
            return null;
        }

        if (reader.NextMessagePackType != MessagePackType.Integer)
        {
            error = "the tag is not an integer";
            return null;
        }

        var tag = reader.ReadInt64();
        var message = tag is < int.MinValue or > int.MaxValue ? null : body((int)tag, ref reader);
        if (message is null)
        {
            error = $"unknown tag {tag}";
            return null;
        }

        if (!reader.End)
        {
            error = "bytes after the message";
            return null;
        }

        return message;
    }

    public static void WriteBin(ref MessagePackWriter w, byte[]? bytes)
    {
        if (bytes is null)
        {
            w.WriteNil();
        }
        else
        {
            w.Write(bytes);
        }
    }

    public static void WriteNullable(ref MessagePackWriter w, int? value)
    {
        if (value is { } v)
        {
            w.Write(v);
        }
        else
        {
            w.WriteNil();
        }
    }

    public static void WriteNullable(ref MessagePackWriter w, long? value)
    {
        if (value is { } v)
        {
            w.Write(v);
        }
        else
        {
            w.WriteNil();
        }
    }

    public static int ReadMapHeader(ref MessagePackReader r)
    {
        if (r.NextMessagePackType != MessagePackType.Map)
        {
            throw new MessagePackSerializationException($"expected a map, found {r.NextMessagePackType}");
        }

        var count = r.ReadMapHeader();
        return count <= r.Sequence.Length - r.Consumed ? count : throw Truncated("map", count, ref r);
    }

    public static string ReadKey(ref MessagePackReader r) =>
        r.NextMessagePackType == MessagePackType.String ? r.ReadString()! : throw new MessagePackSerializationException($"a map key is {r.NextMessagePackType}, not a string");

    public static string ReadString(ref MessagePackReader r, string field) =>
        r.ReadString() ?? throw new MessagePackSerializationException($"{field} is nil");

    public static string? ReadNullableString(ref MessagePackReader r) => r.ReadString();

    public static void WriteDictionary(ref MessagePackWriter w, IReadOnlyDictionary<string, string> map)
    {
        w.WriteMapHeader(map.Count);
        foreach (var (k, v) in map)
        {
            w.Write(k);
            w.Write(v);
        }
    }

    public static Dictionary<string, string> ReadDictionary(ref MessagePackReader r, string field)
    {
        var count = ReadMapHeader(ref r);
        var map = new Dictionary<string, string>(Math.Min(count, 64));
        for (var i = 0; i < count; i++)
        {
            var key = ReadString(ref r, field);
            map[key] = ReadString(ref r, field);
        }

        return map;
    }

    public static byte[] ReadBin(ref MessagePackReader r, string field) =>
        ReadNullableBin(ref r) ?? throw new MessagePackSerializationException($"{field} is nil");

    public static byte[]? ReadNullableBin(ref MessagePackReader r) =>
        r.TryReadNil() ? null : r.ReadBytes() is { } bytes ? bytes.ToArray() : null;

    public static T[] ReadArray<T>(ref MessagePackReader r, string field, ElementReader<T> element)
    {
        if (r.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException($"{field} is {r.NextMessagePackType}, not an array");
        }

        // Every element takes at least one byte: a count past what is left is a lie, refused before allocating.
        var count = r.ReadArrayHeader();
        if (count > r.Sequence.Length - r.Consumed)
        {
            throw Truncated(field, count, ref r);
        }

        var items = new T[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = element(ref r);
        }

        return items;
    }

    public static MessagePackSerializationException Truncated(string what, int count, ref MessagePackReader r) =>
        new($"{what} claims {count} entries with {r.Sequence.Length - r.Consumed} bytes left");

    /// <summary>The error for a message without a required field: the first of <paramref name="fields"/> missing from <paramref name="seen"/>.</summary>
    public static MessagePackSerializationException Missing(ulong seen, ulong required, string message, string[] fields) =>
        new($"{message} without {fields[System.Numerics.BitOperations.TrailingZeroCount(required & ~seen)]}");

    public static void Skip(ref MessagePackReader r)
    {
        var context = new SerializationContext();
        r.Skip(context);
    }
}
