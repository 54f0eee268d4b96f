using System.Buffers;
using Disagg.Control.Messages;
using Nerdbank.MessagePack;

namespace Disagg.Control;

/// <summary>
/// The control protocol's codec without run-time converter building: ControlWire.g.cs (written by
/// tools/gen-control-wire.py) has a writer and a reader per message; these are the pieces they share. Input is
/// untrusted: anything malformed throws <see cref="MessagePackSerializationException"/> (or the reader's
/// EndOfStream/Overflow), which <see cref="ControlCodec"/> turns into a protocol violation.
/// </summary>
internal static partial class ControlWire
{
    private delegate T ElementReader<T>(ref MessagePackReader reader);

    private static void WriteBin(ref MessagePackWriter w, byte[]? bytes)
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

    private static void WriteNullable(ref MessagePackWriter w, long? value)
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

    private static int ReadMapHeader(ref MessagePackReader r)
    {
        if (r.NextMessagePackType != MessagePackType.Map)
        {
            throw new MessagePackSerializationException($"expected a map, found {r.NextMessagePackType}");
        }

        var count = r.ReadMapHeader();
        return count <= r.Sequence.Length - r.Consumed ? count : throw Truncated("map", count, ref r);
    }

    private static string ReadKey(ref MessagePackReader r) =>
        r.NextMessagePackType == MessagePackType.String ? r.ReadString()! : throw new MessagePackSerializationException($"a map key is {r.NextMessagePackType}, not a string");

    private static string ReadString(ref MessagePackReader r, string field) =>
        r.ReadString() ?? throw new MessagePackSerializationException($"{field} is nil");

    private static byte[] ReadBin(ref MessagePackReader r, string field) =>
        ReadNullableBin(ref r) ?? throw new MessagePackSerializationException($"{field} is nil");

    private static byte[]? ReadNullableBin(ref MessagePackReader r) =>
        r.TryReadNil() ? null : r.ReadBytes() is { } bytes ? bytes.ToArray() : null;

    private static T[] ReadArray<T>(ref MessagePackReader r, string field, ElementReader<T> element)
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

    private static MessagePackSerializationException Truncated(string what, int count, ref MessagePackReader r) =>
        new($"{what} claims {count} entries with {r.Sequence.Length - r.Consumed} bytes left");

    private static void Require(ulong seen, ulong required, string message, string[] fields)
    {
        var missing = required & ~seen;
        if (missing != 0)
        {
            throw new MessagePackSerializationException($"{message} without {fields[System.Numerics.BitOperations.TrailingZeroCount(missing)]}");
        }
    }

    private static void Skip(ref MessagePackReader r)
    {
        var context = new SerializationContext();
        r.Skip(context);
    }
}
