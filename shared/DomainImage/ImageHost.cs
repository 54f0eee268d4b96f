namespace Disagg.DomainImage;

/// <summary>
/// What the host that will rebuild the domain can take, checked by the reader with everything else so that
/// an image this host cannot restore is refused before anything is created: the widest guest it runs
/// (an rv32 host refuses an rv64 image; an rv64 host takes both) and where a domain's frames may be.
/// </summary>
public sealed record ImageHost
{
    public ImageIsa WidestGuest { get; init; } = ImageIsa.Rv64;

    /// <summary>True if frames [first, first+count) exist in a domain of this record's size; null accepts any.</summary>
    public Func<DomainRecord, ulong, long, bool>? FramesFit { get; init; }
}
