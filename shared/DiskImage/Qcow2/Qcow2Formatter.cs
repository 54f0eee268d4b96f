using System.Buffers.Binary;
using System.Text;
using Disagg.DiskImage.Raw;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Creates an empty qcow2 v3 image, laid out as qemu-img does: header cluster (header,
/// extensions, backing file name), refcount table, refcount blocks, L1 table; nothing else
/// allocated, refcount_order 4, no features set.
/// </summary>
internal static class Qcow2Formatter
{
    public static void Create(string path, long? sizeBytes, string? backingFile, DiskImageFormat? backingFormat, int clusterBits)
    {
        if (clusterBits is < 9 or > 21)
        {
            throw Invalid(path, $"cluster_bits {clusterBits} outside 9..21");
        }

        var size = sizeBytes ?? (backingFile is null
            ? throw Invalid(path, "a size is needed when there is no backing file")
            : BackingSize(path, backingFile, backingFormat));
        if (size < 0 || size % IDiskImage.SectorSize != 0 || size > (1L << 56))
        {
            throw Invalid(path, $"size {size} is not a whole number of sectors below 2^56");
        }

        // qemu-img refuses a backing file it cannot open; so do we, and we record its format.
        var backingFormatName = backingFile is null ? null : FormatName(path, backingFile, backingFormat);
        var g = new Qcow2Geometry(clusterBits, size);
        var l1Entries = Qcow2Geometry.L1EntriesFor(size, clusterBits);
        var l1Clusters = Math.Max(1, g.ClustersFor(l1Entries * 8));
        var (refTableClusters, refBlocks) = RefcountLayout(g, size, l1Entries, l1Clusters);
        var refTableAt = 1L;
        var l1At = refTableAt + refTableClusters;
        var refBlocksAt = l1At + l1Clusters;
        var metadataClusters = refBlocksAt + refBlocks;
        if ((l1Entries * 8) > (32L << 20) || refTableClusters * g.ClusterSize > (8L << 20))
        {
            throw Invalid(path, "size too large for this cluster size (use bigger clusters)");
        }

        var header = new Qcow2Header
        {
            Magic = Qcow2Header.QcowMagic,
            Version = 3,
            ClusterBits = (uint)clusterBits,
            VirtualSize = (ulong)size,
            L1Size = (uint)l1Entries,
            L1TableOffset = (ulong)g.ClusterOffset(l1At),
            RefcountTableOffset = (ulong)g.ClusterOffset(refTableAt),
            RefcountTableClusters = (uint)refTableClusters,
            RefcountOrder = 4,
            HeaderLength = Qcow2Header.Size,
        };
        var cluster0 = new byte[g.ClusterSize];
        WriteHeaderCluster(path, cluster0, ref header, backingFile, backingFormatName);

        using var file = ImageFile.CreateNew(path);
        var ok = false;
        try
        {
            ImageFile.WriteAt(file, path, cluster0, 0);

            // Refcount table: blocks 0..refBlocks-1, at refBlocksAt.
            var table = new byte[refTableClusters * g.ClusterSize];
            for (var b = 0; b < refBlocks; b++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(b * 8), (ulong)g.ClusterOffset(refBlocksAt + b));
            }

            ImageFile.WriteAt(file, path, table, g.ClusterOffset(refTableAt));

            // Refcount blocks: every metadata cluster counted once.
            var blocks = new byte[refBlocks * g.ClusterSize];
            for (var c = 0L; c < metadataClusters; c++)
            {
                BinaryPrimitives.WriteUInt16BigEndian(blocks.AsSpan((int)(c * 2)), 1);
            }

            ImageFile.WriteAt(file, path, blocks, g.ClusterOffset(refBlocksAt));

            // L1: zeros; the file length makes it exist without writing it.
            ImageFile.SetLength(file, path, g.ClusterOffset(metadataClusters));
            ImageFile.FlushToDisk(file, path);
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                file.Dispose();
                File.Delete(path);
            }
        }
    }

    /// <summary>
    /// Sizes the refcount table for the largest file this image can become (all data and L2
    /// clusters plus metadata and reservations), so it never has to grow in place.
    /// </summary>
    private static (long TableClusters, long Blocks) RefcountLayout(Qcow2Geometry g, long size, long l1Entries, long l1Clusters)
    {
        var perBlock = g.RefcountBlockEntries;
        var worstData = g.ClustersFor(size) + l1Entries + 64;
        long tableClusters = 1, blocks = 1;
        for (var i = 0; i < 16; i++)
        {
            var metadata = 1 + tableClusters + l1Clusters + blocks;
            blocks = (metadata + perBlock - 1) / perBlock;
            var worstBlocks = (metadata + worstData + perBlock - 1) / perBlock;
            tableClusters = Math.Max(1, g.ClustersFor(worstBlocks * 8));
        }

        return (tableClusters, blocks);
    }

    private static void WriteHeaderCluster(string path, byte[] cluster0, ref Qcow2Header header, string? backingFile, string? backingFormat)
    {
        var at = Qcow2Header.Size;
        if (backingFormat is not null)
        {
            at = WriteExtension(cluster0, at, Qcow2Features.ExtensionBackingFormat, Encoding.ASCII.GetBytes(backingFormat));
        }

        at += 8; // end of extensions: type 0, length 0 (the cluster is zeroed)
        if (backingFile is not null)
        {
            var name = Encoding.UTF8.GetBytes(backingFile);
            if (name.Length is 0 or > 1023 || at + name.Length > cluster0.Length)
            {
                throw Invalid(path, "backing file name must be 1..1023 bytes and fit the header cluster");
            }

            name.CopyTo(cluster0, at);
            header.BackingFileOffset = (ulong)at;
            header.BackingFileSize = (uint)name.Length;
        }

        header.WriteTo(cluster0);
    }

    private static int WriteExtension(byte[] cluster0, int at, uint type, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteUInt32BigEndian(cluster0.AsSpan(at), type);
        BinaryPrimitives.WriteUInt32BigEndian(cluster0.AsSpan(at + 4), (uint)data.Length);
        data.CopyTo(cluster0.AsSpan(at + 8));
        return at + 8 + ((data.Length + 7) & ~7);
    }

    private static string FormatName(string path, string backingFile, DiskImageFormat? backingFormat)
    {
        var resolved = BackingChain.Resolve(path, backingFile);
        var probed = BackingChain.Probe(path, resolved); // also: the file must exist
        return backingFormat switch
        {
            DiskImageFormat.Qcow2 => "qcow2",
            DiskImageFormat.Raw => "raw",
            _ => probed,
        };
    }

    private static long BackingSize(string path, string backingFile, DiskImageFormat? backingFormat)
    {
        var resolved = BackingChain.Resolve(path, backingFile);
        var format = FormatName(path, backingFile, backingFormat);
        using IDiskImage backing = format == "qcow2" ? Qcow2Image.Open(resolved, readOnly: true) : RawImage.Open(resolved, readOnly: true);
        return backing.SectorCount * IDiskImage.SectorSize;
    }

    private static DiskImageException Invalid(string path, string reason) => new(path, DiskImageError.InvalidArgument, reason);
}
