using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Guest cluster -> L2 entry, through the L1 table (kept whole in memory) and the L2 table
/// cache (qcow2.txt, "Cluster mapping"). Changes are written through, L2 table before the L1
/// entry that points at it. Callers hold the image's metadata lock.
/// </summary>
internal sealed class ClusterMap
{
    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly Qcow2Geometry _g;
    private readonly ulong[] _l1;
    private readonly long _l1Offset;
    private readonly L2TableCache _l2;
    private readonly HashSet<long> _l2Tables = [];
    private readonly Qcow2Overlap _overlap;

    public ClusterMap(SafeFileHandle file, string path, Qcow2Metadata meta, RefcountTable refcounts, int l2CacheTables)
    {
        _file = file;
        _path = path;
        _g = meta.Geometry;
        _l1 = meta.L1;
        _l1Offset = (long)meta.Header.L1TableOffset;
        _l2 = new L2TableCache(file, path, _g, l2CacheTables);
        foreach (var e in _l1)
        {
            if (L2Entry.HostOffset(e) != 0)
            {
                _l2Tables.Add(L2Entry.HostOffset(e));
            }
        }

        _overlap = new Qcow2Overlap(_g, meta.Header, refcounts, _l2Tables);
    }

    /// <summary>The L2 entry of the cluster holding <paramref name="offset"/> (0 if it has no L2 table).</summary>
    public ulong Entry(long offset)
    {
        var l2Offset = L2Entry.HostOffset(_l1[_g.L1Index(offset)]);
        return l2Offset == 0 ? 0 : _l2.Get(l2Offset)[_g.L2Index(offset)];
    }

    public ClusterKind Classify(ulong entry) =>
        L2Entry.IsCompressed(entry)
            ? throw new DiskImageException(_path, DiskImageError.Unsupported, "compressed cluster")
            : L2Entry.Classify(entry);

    /// <summary>Refuses a data write to a cluster that is really metadata (a corrupt or hostile L2 entry).</summary>
    public void CheckDataCluster(long host) => _overlap.Check(host, _path);

    /// <summary>The run of clusters from <paramref name="offset"/> that read the same way (contiguous on the host for data).</summary>
    public Qcow2Mapping Lookup(long offset, int maxBytes, bool forWrite)
    {
        var inCluster = _g.OffsetInCluster(offset);
        var l2Offset = L2Entry.HostOffset(_l1[_g.L1Index(offset)]);
        if (l2Offset == 0)
        {
            // Nothing in this L2 table's range is allocated: up to its end everything reads alike.
            var shift = _g.ClusterBits + _g.L2Bits;
            var l2End = ((offset >> shift) + 1) << shift;
            return new Qcow2Mapping(ClusterKind.Unallocated, 0, (int)Math.Min(maxBytes, l2End - offset));
        }

        var table = _l2.Get(l2Offset);
        var index = _g.L2Index(offset);
        var kind = Classify(table[index]);
        var host = L2Entry.HostOffset(table[index]);
        if (kind == ClusterKind.Data && forWrite)
        {
            _overlap.Check(host, _path);
        }

        var length = (int)Math.Min(maxBytes, _g.ClusterSize - inCluster);
        for (var i = index + 1; length < maxBytes && i < table.Length; i++)
        {
            var next = table[i];
            if (Classify(next) != kind ||
                (kind == ClusterKind.Data && L2Entry.HostOffset(next) != host + ((long)(i - index) << _g.ClusterBits)))
            {
                break;
            }

            if (kind == ClusterKind.Data && forWrite)
            {
                _overlap.Check(L2Entry.HostOffset(next), _path);
            }

            length = (int)Math.Min(maxBytes, length + (long)_g.ClusterSize);
        }

        return new Qcow2Mapping(kind, kind == ClusterKind.Data ? host + inCluster : 0, length);
    }

    /// <summary>
    /// Points the cluster holding <paramref name="offset"/> at <paramref name="entry"/>, creating
    /// its L2 table first if needed (table written before the L1 entry). Returns the new table's
    /// offset, or 0.
    /// </summary>
    public long SetEntry(long offset, ulong entry, ClusterAllocator allocator)
    {
        var l1Index = _g.L1Index(offset);
        var l2Index = _g.L2Index(offset);
        var l2Offset = L2Entry.HostOffset(_l1[l1Index]);
        if (l2Offset != 0)
        {
            _l2.SetEntry(l2Offset, l2Index, entry);
            return 0;
        }

        var table = allocator.Allocate();
        _l2.WriteNew(table, l2Index, entry);
        _l2Tables.Add(table);
        var l1Entry = (ulong)table | L2Entry.Copied;
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, l1Entry);
        ImageFile.WriteAt(_file, _path, bytes, _l1Offset + (l1Index * 8));
        _l1[l1Index] = l1Entry;
        return table;
    }
}
