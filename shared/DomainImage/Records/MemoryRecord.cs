using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// A run of consecutive populated guest frames that are not all zero, LZ4-compressed as one block.
/// Runs are at most <see cref="MaxPages"/> long so a reader's buffer is bounded and a migration stream
/// can interleave them with other records.
/// </summary>
public sealed record MemoryRecord
{
    public const int MaxPages = 64;

    public required ulong FirstFrame { get; init; }

    public required int PageCount { get; init; }

    /// <summary>The pages' bytes as one LZ4 block of PageCount x page size bytes.</summary>
    public required byte[] Compressed { get; init; }

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(3);
        w.Write(FirstFrame);
        w.Write(PageCount);
        w.Write(Compressed);
    }

    internal static MemoryRecord Read(ref MessagePackReader r, int pageSize)
    {
        RecordFields.ExpectArray(ref r, 3, "memory");
        return new MemoryRecord
        {
            FirstFrame = r.ReadUInt64(),
            PageCount = RecordFields.ReadInt(ref r, "page count", 1, MaxPages),
            Compressed = RecordFields.ReadBytes(ref r, "pages", PageCompression.MaxCompressedBytes(MaxPages * pageSize)),
        };
    }
}
