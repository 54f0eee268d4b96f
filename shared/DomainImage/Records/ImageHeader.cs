using Disagg.DomainImage.Records;
using Nerdbank.MessagePack;

namespace Disagg.DomainImage;

/// <summary>
/// The first record: what the image is (magic, format version) and what it needs of the host that restores
/// it (the guest's ISA width, the page size), and the domain's configuration as the toolstack wrote it,
/// carried opaquely so that a restore or a migration target recreates the same devices.
/// </summary>
public sealed record ImageHeader
{
    /// <summary>"DISAGGIM" as a little-endian u64.</summary>
    public const ulong ExpectedMagic = 0x4D49_4747_4153_4944;

    public const int CurrentVersion = 1;

    /// <summary>A config file is text of a few KiB; this bounds what a reader allocates for it.</summary>
    public const int MaxConfigBytes = 256 * 1024;

    public ulong Magic { get; init; } = ExpectedMagic;

    public int Version { get; init; } = CurrentVersion;

    public required ImageIsa Isa { get; init; }

    public int PageSize { get; init; } = 4096;

    public byte[] Config { get; init; } = [];

    internal void Write(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(5);
        w.Write(Magic);
        w.Write(Version);
        w.Write((byte)Isa);
        w.Write(PageSize);
        w.Write(Config);
    }

    internal static ImageHeader Read(ref MessagePackReader r)
    {
        RecordFields.ExpectArray(ref r, 5, "header");
        return new ImageHeader
        {
            Magic = r.ReadUInt64(),
            Version = r.ReadInt32(),
            Isa = (ImageIsa)r.ReadByte(),
            PageSize = r.ReadInt32(),
            Config = RecordFields.ReadBytes(ref r, "config", MaxConfigBytes),
        };
    }
}
