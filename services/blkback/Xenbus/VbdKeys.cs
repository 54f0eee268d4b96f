using System.Globalization;
using Disagg.DiskImage;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// The backend keys blkback writes (spec §8; io/blkif.h "Backend Device Properties"). The frontend keys it reads
/// are in <see cref="VbdDriver.ReadFrontendAsync"/>, the toolstack's in <see cref="VbdConfig"/>.
/// </summary>
internal static class VbdKeys
{
    public const int VdiskReadOnly = 4;

    /// <summary>Rings of up to 2^4 = 16 pages (512 requests), as Linux blkback offers (XENBUS_MAX_RING_GRANT_ORDER).</summary>
    public const int MaxRingPageOrder = 4;

    /// <summary>The disk's geometry and every feature we serve, written before InitWait.</summary>
    public static IReadOnlyList<(string Key, string Value)> Features(IDiskImage image, int maxIndirectSegments) =>
    [
        ("sectors", N(image.SectorCount)),
        ("sector-size", "512"),
        ("physical-sector-size", "512"),
        ("info", image.ReadOnly ? N(VdiskReadOnly) : "0"),
        ("feature-flush-cache", "1"),
        ("feature-barrier", "1"),
        ("feature-discard", image.ReadOnly ? "0" : "1"),
        // Discard works on any 512-byte range (partial qcow2 clusters and raw pages are zeroed); 4 KiB is what frees space.
        ("discard-granularity", "4096"),
        ("discard-alignment", "0"),
        ("discard-secure", "0"),
        ("feature-max-indirect-segments", N(maxIndirectSegments)),
        ("max-ring-page-order", N(MaxRingPageOrder)),
    ];

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
