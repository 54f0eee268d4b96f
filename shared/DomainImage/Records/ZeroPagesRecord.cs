using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>A run of populated guest frames that are all zero: only their count travels.</summary>
public sealed record ZeroPagesRecord(ulong FirstFrame, long Count)
{
    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(2);
        w.Write(FirstFrame);
        w.Write(Count);
    }

    internal static ZeroPagesRecord Read(ref MessagePackReader r)
    {
        Records.RecordFields.ExpectArray(ref r, 2, "zero pages");
        var first = r.ReadUInt64();
        var count = r.ReadInt64();
        return count > 0 ? new ZeroPagesRecord(first, count) : throw new MessagePackSerializationException($"zero pages count {count}");
    }
}
