using System.Runtime.InteropServices;
using Disagg.Abi.Io;

namespace Disagg.Blkback.DataPath;

/// <summary>
/// Checks a request copied out of the ring (spec §8 blkif) before anything is done with it: operation,
/// segment counts, sector indices within the page, and the range against the disk. A failed check is a
/// response status (BLKIF_RSP_ERROR, or EOPNOTSUPP for an unknown operation as Linux blkback answers), never
/// an exception: the frontend is untrusted (ARCHITECTURE §1).
/// </summary>
internal static class RequestParser
{
    private const int SectorsPerPage = 4096 / BlkifRequest.SectorSize;

    /// <summary>Fills <paramref name="into"/> from a direct, discard or indirect request; false with a status on refusal.</summary>
    public static bool TryParse(in BlkifRequest raw, VbdRing device, IoRequest into)
    {
        into.Id = raw.Id;
        into.WireOperation = raw.Operation;
        into.Sector = (long)Math.Min(raw.SectorNumber, long.MaxValue);
        switch ((BlkifOperation)raw.Operation)
        {
            case BlkifOperation.Read:
            case BlkifOperation.Write:
            case BlkifOperation.WriteBarrier:
                into.Kind = (BlkifOperation)raw.Operation;
                return TryDirectSegments(raw, device, into);
            case BlkifOperation.FlushDiskcache:
                into.Kind = BlkifOperation.FlushDiskcache;
                return true;
            case BlkifOperation.Discard:
                return TryDiscard(MemoryMarshal.Cast<BlkifRequest, BlkifRequestDiscard>(new ReadOnlySpan<BlkifRequest>(in raw))[0], device, into);
            case BlkifOperation.Indirect:
                return TryIndirectHeader(MemoryMarshal.Cast<BlkifRequest, BlkifRequestIndirect>(new ReadOnlySpan<BlkifRequest>(in raw))[0], device, into);
            default:
                into.Fail(BlkifResponse.StatusNotSupported, "unknown operation " + raw.Operation);
                return false;
        }
    }

    /// <summary>Reads an indirect request's segment descriptors from the pages copied into its slot, then checks them.</summary>
    public static bool TryIndirectSegments(ReadOnlySpan<byte> descriptorPages, VbdRing device, IoRequest into)
    {
        var segments = MemoryMarshal.Cast<byte, BlkifSegment>(descriptorPages);
        segments[..into.SegmentCount].CopyTo(into.Segments);
        return TrySegments(device, into);
    }

    private static bool TryDirectSegments(in BlkifRequest raw, VbdRing device, IoRequest into)
    {
        var n = raw.NrSegments;
        if (n > BlkifRequest.MaxSegments || (n == 0 && into.Kind != BlkifOperation.WriteBarrier))
        {
            into.Fail(BlkifResponse.StatusError, $"{n} segments (1..{BlkifRequest.MaxSegments})");
            return false;
        }

        into.SegmentCount = n;
        unsafe
        {
            fixed (byte* s = raw.Segments)
            {
                new ReadOnlySpan<BlkifSegment>(s, n).CopyTo(into.Segments);
            }
        }

        return TrySegments(device, into);
    }

    private static bool TryIndirectHeader(in BlkifRequestIndirect raw, VbdRing device, IoRequest into)
    {
        into.Sector = (long)Math.Min(raw.SectorNumber, long.MaxValue);
        into.Kind = (BlkifOperation)raw.IndirectOp;
        if (into.Kind is not (BlkifOperation.Read or BlkifOperation.Write))
        {
            into.Fail(BlkifResponse.StatusError, "indirect operation " + raw.IndirectOp);
            return false;
        }

        if (raw.NrSegments == 0 || raw.NrSegments > device.MaxIndirectSegments)
        {
            into.Fail(BlkifResponse.StatusError, $"{raw.NrSegments} indirect segments (1..{device.MaxIndirectSegments})");
            return false;
        }

        into.SegmentCount = raw.NrSegments;
        into.IndirectPages = (raw.NrSegments + BlkifRequestIndirect.SegmentsPerPage - 1) / BlkifRequestIndirect.SegmentsPerPage;
        unsafe
        {
            for (var i = 0; i < into.IndirectPages; i++)
            {
                into.IndirectRefs[i] = raw.IndirectGrefs[i];
            }
        }

        return true;
    }

    private static bool TrySegments(VbdRing device, IoRequest into)
    {
        long sectors = 0;
        for (var i = 0; i < into.SegmentCount; i++)
        {
            var s = into.Segments[i];
            if (s.FirstSect > s.LastSect || s.LastSect >= SectorsPerPage)
            {
                into.Fail(BlkifResponse.StatusError, $"segment {i}: sectors {s.FirstSect}..{s.LastSect} of a {SectorsPerPage}-sector page");
                return false;
            }

            sectors += s.LastSect - s.FirstSect + 1;
        }

        into.Sectors = sectors;
        if (into.Kind != BlkifOperation.Read && device.ReadOnly && (sectors > 0 || into.Kind == BlkifOperation.Write))
        {
            into.Fail(BlkifResponse.StatusError, "write to a read-only disk");
            return false;
        }

        return TryRange(device, into, sectors);
    }

    private static bool TryDiscard(in BlkifRequestDiscard raw, VbdRing device, IoRequest into)
    {
        into.Kind = BlkifOperation.Discard;
        into.Sector = (long)Math.Min(raw.SectorNumber, long.MaxValue);
        if (device.ReadOnly)
        {
            into.Fail(BlkifResponse.StatusError, "discard on a read-only disk");
            return false;
        }

        if ((raw.Flag & BlkifRequestDiscard.FlagSecure) != 0)
        {
            into.Fail(BlkifResponse.StatusNotSupported, "secure discard is not offered");
            return false;
        }

        into.Sectors = (long)Math.Min(raw.NrSectors, long.MaxValue);
        return TryRange(device, into, into.Sectors);
    }

    /// <summary>sector + count within the disk, without computing anything that can overflow.</summary>
    private static bool TryRange(VbdRing device, IoRequest into, long count)
    {
        if (into.Sector > device.Sectors || count > device.Sectors - into.Sector)
        {
            into.Fail(BlkifResponse.StatusError, $"sectors {into.Sector}+{count} past the end ({device.Sectors})");
            return false;
        }

        return true;
    }
}
