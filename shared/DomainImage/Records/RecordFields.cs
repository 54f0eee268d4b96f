using System.Buffers;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage.Records;

/// <summary>
/// The field readers every record body shares. A body is a MessagePack array of its fields in a fixed order;
/// anything else throws <see cref="MessagePackSerializationException"/> (or the reader's EndOfStream), which the
/// image reader turns into a <see cref="DomainImageError.Malformed"/> refusal naming the record.
/// </summary>
internal static class RecordFields
{
    public static void ExpectArray(ref MessagePackReader r, int fields, string record)
    {
        if (r.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException($"{record} is {r.NextMessagePackType}, not an array");
        }

        var count = r.ReadArrayHeader();
        if (count != fields)
        {
            throw new MessagePackSerializationException($"{record} has {count} fields, not {fields}");
        }
    }

    /// <summary>An array header whose count is checked against what is left (every element takes a byte) and a cap.</summary>
    public static int ReadCount(ref MessagePackReader r, string field, int max)
    {
        if (r.NextMessagePackType != MessagePackType.Array)
        {
            throw new MessagePackSerializationException($"{field} is {r.NextMessagePackType}, not an array");
        }

        var count = r.ReadArrayHeader();
        if (count > max || count > r.Sequence.Length - r.Consumed)
        {
            throw new MessagePackSerializationException($"{field} claims {count} entries (at most {max}, {r.Sequence.Length - r.Consumed} bytes left)");
        }

        return count;
    }

    public static byte[] ReadBytes(ref MessagePackReader r, string field, int max)
    {
        var bytes = r.ReadBytes() ?? throw new MessagePackSerializationException($"{field} is nil");
        return bytes.Length <= max ? bytes.ToArray() : throw new MessagePackSerializationException($"{field} is {bytes.Length} bytes, over {max}");
    }

    public static string ReadString(ref MessagePackReader r, string field, int maxLength)
    {
        var s = r.ReadString() ?? throw new MessagePackSerializationException($"{field} is nil");
        return s.Length <= maxLength ? s : throw new MessagePackSerializationException($"{field} is {s.Length} characters, over {maxLength}");
    }

    public static ulong[] ReadRegisters(ref MessagePackReader r, string field)
    {
        var count = ReadCount(ref r, field, 32);
        if (count != 32)
        {
            throw new MessagePackSerializationException($"{field} has {count} registers, not 32");
        }

        var values = new ulong[32];
        for (var i = 0; i < 32; i++)
        {
            values[i] = r.ReadUInt64();
        }

        return values;
    }

    public static void WriteRegisters(ref MessagePackWriter w, ulong[] values)
    {
        w.WriteArrayHeader(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    public static int ReadInt(ref MessagePackReader r, string field, int min, int max)
    {
        var v = r.ReadInt64();
        return v >= min && v <= max ? (int)v : throw new MessagePackSerializationException($"{field} is {v}, not in {min}..{max}");
    }
}
