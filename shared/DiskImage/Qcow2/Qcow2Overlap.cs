namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// The last line before a data write: the target cluster must not be metadata (header, L1,
/// refcount table or blocks, an L2 table). A corrupt or hostile L2 entry pointing at metadata
/// would otherwise let a guest write rewrite the image's structure (qemu has the same
/// "overlap check"). Callers hold the image's metadata lock.
/// </summary>
internal sealed class Qcow2Overlap
{
    private readonly Qcow2Geometry _g;
    private readonly long _l1Start;
    private readonly long _l1End;
    private readonly RefcountTable _refcounts;
    private readonly HashSet<long> _l2Tables;

    public Qcow2Overlap(Qcow2Geometry geometry, Qcow2Header header, RefcountTable refcounts, HashSet<long> l2Tables)
    {
        _g = geometry;
        _l1Start = (long)header.L1TableOffset;
        _l1End = _l1Start + (header.L1Size * 8L);
        _refcounts = refcounts;
        _l2Tables = l2Tables;
    }

    public void Check(long host, string path)
    {
        var end = host + _g.ClusterSize;
        var refTableStart = _refcounts.TableOffset;
        var refTableEnd = refTableStart + _refcounts.TableBytes;
        if (host < _g.ClusterSize ||
            (host < _l1End && end > _l1Start) ||
            (host < refTableEnd && end > refTableStart) ||
            _refcounts.IsBlock(host) ||
            _l2Tables.Contains(host))
        {
            throw new DiskImageException(path, DiskImageError.Corrupt, $"L2 entry points data at metadata (host offset {host}); refusing to write");
        }
    }
}
