using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// The two-level refcount structure (qcow2.txt, "Host cluster management"): a table of
/// refcount block offsets, each block an array of 16-bit big-endian refcounts
/// (refcount_order 4). Every change is written through before it is used. Callers hold the
/// image's metadata lock.
/// </summary>
internal sealed class RefcountTable
{
    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly Qcow2Geometry _geometry;
    private long _tableOffset;
    private ulong[] _table;
    // Blocks stay cached for the image's lifetime: one cluster of memory per cluster_size/2 clusters
    // of file (64 KiB per 2 GiB at 64 KiB clusters), bounded by the image size the toolstack chose;
    // a guest cannot grow the file past its virtual size plus metadata.
    private readonly Dictionary<long, ushort[]> _blocks = [];
    private readonly HashSet<long> _blockOffsets = [];

    public RefcountTable(SafeFileHandle file, string path, Qcow2Geometry geometry, long tableOffset, ulong[] table)
    {
        _file = file;
        _path = path;
        _geometry = geometry;
        _tableOffset = tableOffset;
        _table = table;
        foreach (var e in table)
        {
            if ((e & L2Entry.OffsetMask) != 0)
            {
                _blockOffsets.Add((long)(e & L2Entry.OffsetMask));
            }
        }
    }

    /// <summary>True if a refcount block lives at <paramref name="hostOffset"/> (for the overlap check).</summary>
    public bool IsBlock(long hostOffset) => _blockOffsets.Contains(hostOffset);

    /// <summary>Clusters the table can describe; allocation past this would need the table to grow.</summary>
    public long CoveredClusters => (long)_table.Length * _geometry.RefcountBlockEntries;

    public int Length => _table.Length;

    /// <summary>Where the table lives now (it moves when it grows); for the overlap check.</summary>
    public long TableOffset => _tableOffset;

    public long TableBytes => (long)_table.Length * 8;

    /// <summary>Host offset of refcount block <paramref name="index"/>, 0 if none.</summary>
    public long BlockOffset(int index) => (long)(_table[index] & L2Entry.OffsetMask);

    public int Get(long cluster)
    {
        var block = BlockFor(cluster);
        return block is null ? 0 : block[(int)(cluster % _geometry.RefcountBlockEntries)];
    }

    /// <summary>True if the block covering <paramref name="cluster"/> exists (so its refcount can be set).</summary>
    public bool IsCovered(long cluster)
    {
        var index = cluster / _geometry.RefcountBlockEntries;
        return index < _table.Length && BlockOffset((int)index) != 0;
    }

    /// <summary>Sets the refcounts of clusters [first, first+count), all in one block, with one write.</summary>
    public void SetRun(long first, int count, ushort value)
    {
        var block = BlockFor(first) ?? throw Corrupt($"no refcount block for cluster {first}");
        var start = (int)(first % _geometry.RefcountBlockEntries);
        Span<byte> bytes = stackalloc byte[Math.Min(count, 256) * 2];
        var done = 0;
        while (done < count)
        {
            var n = Math.Min(count - done, 256);
            for (var i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes[(i * 2)..], value);
            }

            var blockOffset = BlockOffset((int)(first / _geometry.RefcountBlockEntries));
            ImageFile.WriteAt(_file, _path, bytes[..(n * 2)], blockOffset + ((start + done) * 2L));
            for (var i = 0; i < n; i++)
            {
                block[start + done + i] = value;
            }

            done += n;
        }
    }

    public void Set(long cluster, ushort value) => SetRun(cluster, 1, value);

    /// <summary>
    /// Creates refcount block <paramref name="index"/> inside the range it covers, at its first
    /// cluster: every cluster of an uncovered range has refcount 0 (so that one is free), and the
    /// block describes itself, so no other block has to change. Block first, table entry second:
    /// a crash in between leaves an unreferenced cluster past the end, not a dangling pointer.
    /// </summary>
    public void AddSelfDescribingBlock(int index)
    {
        var entries = _geometry.RefcountBlockEntries;
        var offset = _geometry.ClusterOffset((long)index * entries);
        var block = new ushort[entries];
        block[0] = 1;
        var bytes = ArrayPool<byte>.Shared.Rent(_geometry.ClusterSize);
        try
        {
            var span = bytes.AsSpan(0, _geometry.ClusterSize);
            span.Clear();
            BinaryPrimitives.WriteUInt16BigEndian(span, 1);
            ImageFile.WriteAt(_file, _path, span, offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        Span<byte> entry = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(entry, (ulong)offset);
        ImageFile.WriteAt(_file, _path, entry, _tableOffset + (index * 8L));
        _table[index] = (ulong)offset;
        _blocks[index] = block;
        _blockOffsets.Add(offset);
    }

    /// <summary>
    /// Moves the table to a bigger one when allocation reaches the end of what it can describe
    /// (qcow2.txt, "Host cluster management": the table may be reallocated). Everything new goes
    /// into the first uncovered range: at its first cluster a refcount block that counts itself and
    /// the new table, right after it the new table (old entries plus that block). Both are written
    /// and synced before the header switches to the new table in one 12-byte write (offset and
    /// cluster count, bytes 48-59); only then are the old table's clusters released. A crash
    /// before the switch leaves unreferenced clusters past the old coverage, after it a leak.
    /// </summary>
    public void Grow(ClusterAllocatorRelease releaseOld)
    {
        var entries = _geometry.RefcountBlockEntries;
        var oldClusters = (int)(TableBytes >> _geometry.ClusterBits);
        var newClusters = oldClusters * 2;
        if (newClusters + 1 > entries || (long)newClusters << _geometry.ClusterBits > (8L << 20))
        {
            throw new DiskImageException(_path, DiskImageError.Unsupported, "refcount table cannot grow further");
        }

        var blockIndex = _table.Length;
        var first = (long)blockIndex * entries;
        var blockOffset = _geometry.ClusterOffset(first);
        var tableOffset = _geometry.ClusterOffset(first + 1);
        var block = new ushort[entries];
        var newTable = new ulong[(long)newClusters << (_geometry.ClusterBits - 3)];
        Array.Copy(_table, newTable, _table.Length);
        newTable[blockIndex] = (ulong)blockOffset;
        var bytes = new byte[Math.Max(_geometry.ClusterSize, newTable.Length * 8)];
        for (var i = 0; i <= newClusters; i++)
        {
            block[i] = 1;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i * 2), 1);
        }

        ImageFile.WriteAt(_file, _path, bytes.AsSpan(0, _geometry.ClusterSize), blockOffset);
        Array.Clear(bytes);
        for (var i = 0; i < newTable.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), newTable[i]);
        }

        ImageFile.WriteAt(_file, _path, bytes.AsSpan(0, newTable.Length * 8), tableOffset);
        ImageFile.FlushToDisk(_file, _path);
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(header, (ulong)tableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)newClusters);
        ImageFile.WriteAt(_file, _path, header, 48);
        ImageFile.FlushToDisk(_file, _path);

        var oldOffset = _tableOffset;
        _tableOffset = tableOffset;
        _table = newTable;
        _blocks[blockIndex] = block;
        _blockOffsets.Add(blockOffset);
        for (var i = 0; i < oldClusters; i++)
        {
            releaseOld(oldOffset + ((long)i << _geometry.ClusterBits));
        }
    }

    private ushort[]? BlockFor(long cluster)
    {
        var index = cluster / _geometry.RefcountBlockEntries;
        if (index >= _table.Length)
        {
            return null;
        }

        if (_blocks.TryGetValue(index, out var block))
        {
            return block;
        }

        var offset = BlockOffset((int)index);
        if (offset == 0)
        {
            return null;
        }

        block = new ushort[_geometry.RefcountBlockEntries];
        var bytes = ArrayPool<byte>.Shared.Rent(_geometry.ClusterSize);
        try
        {
            var span = bytes.AsSpan(0, _geometry.ClusterSize);
            ImageFile.ReadAt(_file, _path, span, offset);
            for (var i = 0; i < block.Length; i++)
            {
                block[i] = BinaryPrimitives.ReadUInt16BigEndian(span[(i * 2)..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        _blocks[index] = block;
        return block;
    }

    private DiskImageException Corrupt(string reason) => new(_path, DiskImageError.Corrupt, reason);
}
