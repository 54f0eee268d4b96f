using System.Buffers.Binary;

namespace Disagg.Bench.BlkbackFormats;

/// <summary>
/// Where direct pread/pwrite may go in an image file without touching its metadata: the whole
/// raw file, or the data clusters of a qcow2 file (every cluster that is not the header, the
/// refcount table or blocks, the L1 table or an L2 table — qcow2.txt), so the direct baseline
/// runs on the very same file as the image.
/// </summary>
internal sealed class DataRegion
{
    private readonly long[] _mebibytes;

    private DataRegion(long[] mebibytes)
    {
        _mebibytes = mebibytes;
    }

    public long Mebibytes => _mebibytes.Length;

    public static DataRegion Whole(string path, long size)
    {
        _ = path;
        var m = new long[size >> 20];
        for (var i = 0; i < m.Length; i++)
        {
            m[i] = (long)i << 20;
        }

        return new DataRegion(m);
    }

    /// <summary>Host offsets of whole 1 MiB runs holding only data clusters (64 KiB clusters assumed, as created).</summary>
    public static DataRegion Qcow2DataClusters(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var clusterBits = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20));
        var l1Size = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(36));
        var l1 = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(40));
        var refTable = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(48));
        var refClusters = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(56));
        var metadata = new HashSet<long> { 0, l1 >> clusterBits };
        for (var i = 0; i < refClusters << (clusterBits - 3); i++)
        {
            var block = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)refTable + (i * 8)));
            if (block != 0)
            {
                metadata.Add(block >> clusterBits);
            }
        }

        for (var i = 0; i < refClusters; i++)
        {
            metadata.Add((refTable >> clusterBits) + i);
        }

        for (var i = 0; i < l1Size; i++)
        {
            var l2 = (long)(BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan((int)l1 + (i * 8))) & 0x00FF_FFFF_FFFF_FE00UL);
            if (l2 != 0)
            {
                metadata.Add(l2 >> clusterBits);
            }
        }

        var perMebibyte = (1 << 20) >> clusterBits;
        var runs = new List<long>();
        for (long c = 0; (c + perMebibyte) << clusterBits <= bytes.Length; c += perMebibyte)
        {
            var clean = true;
            for (var k = 0; k < perMebibyte; k++)
            {
                clean &= !metadata.Contains(c + k);
            }

            if (clean)
            {
                runs.Add(c << clusterBits);
            }
        }

        return new DataRegion([.. runs]);
    }

    public long Mebibyte(long index) => _mebibytes[index];

    public long Random4k(Random r) => _mebibytes[r.Next(_mebibytes.Length)] + (r.Next(256) * 4096L);
}
