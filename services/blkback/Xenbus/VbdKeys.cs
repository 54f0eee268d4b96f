using System.Globalization;
using Disagg.DiskImage;
using Disagg.Xenbus;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// The backend keys blkback writes (spec §8; io/blkif.h "Backend Device Properties"), and the frontend keys it
/// reads. The toolstack's keys are <see cref="VbdConfig"/>.
/// </summary>
internal static class VbdKeys
{
    public const int VdiskReadOnly = 4;

    /// <summary>Rings of up to 2^4 = 16 pages (512 requests), as Linux blkback offers (XENBUS_MAX_RING_GRANT_ORDER).</summary>
    public const int MaxRingPageOrder = 4;

    /// <summary>Keys we write: watch events for them are our own echo, not news.</summary>
    public static readonly HashSet<string> Ours =
    [
        "state", "sectors", "sector-size", "physical-sector-size", "info", "feature-flush-cache", "feature-barrier",
        "feature-discard", "discard-granularity", "discard-alignment", "discard-secure", "feature-max-indirect-segments",
        "max-ring-page-order", "error", "hotplug-status",
    ];

    /// <summary>Writes the disk's geometry and every feature we serve; the state goes last, by the caller.</summary>
    public static async Task PublishAsync(XenstoreClient xs, string backendPath, IDiskImage image, int maxIndirectSegments, CancellationToken cancel)
    {
        const uint tx = XenstoreClient.NoTransaction;
        (string Key, string Value)[] keys =
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
            ("hotplug-status", "connected"),
        ];
        var writes = new Task[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            writes[i] = xs.WriteAsync(tx, $"{backendPath}/{keys[i].Key}", keys[i].Value, cancel);
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        await xs.RmAsync(tx, backendPath + "/error", cancel).ConfigureAwait(false);
    }

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
