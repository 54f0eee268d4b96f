using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// The domain's grant table: the frames in use (setup_table may have grown them) and their entries
/// (grant_entry_v1, 8 bytes each). Mappings other domains hold are not state of this domain: a backend
/// unmaps before a save and its frontend grants afresh after resume.
/// </summary>
public sealed record GrantTableRecord(int Frames, byte[] Entries)
{
    /// <summary>Xen's default max_grant_frames.</summary>
    public const int MaxFrames = 32;

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(2);
        w.Write(Frames);
        w.Write(Entries);
    }

    internal static GrantTableRecord Read(ref MessagePackReader r, int pageSize)
    {
        RecordFields.ExpectArray(ref r, 2, "grant table");
        var frames = RecordFields.ReadInt(ref r, "grant frames", 1, MaxFrames);
        var entries = RecordFields.ReadBytes(ref r, "grant entries", MaxFrames * pageSize);
        return entries.Length == frames * pageSize ? new GrantTableRecord(frames, entries)
            : throw new MessagePackSerializationException($"{frames} grant frames with {entries.Length} bytes of entries");
    }
}
