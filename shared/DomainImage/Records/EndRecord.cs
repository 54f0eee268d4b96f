using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>The last record: how many records came before it. Without it an image is incomplete, however well its records check.</summary>
public sealed record EndRecord(int RecordCount)
{
    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(1);
        w.Write(RecordCount);
    }

    internal static EndRecord Read(ref MessagePackReader r)
    {
        Records.RecordFields.ExpectArray(ref r, 1, "end");
        return new EndRecord(r.ReadInt32());
    }
}
