using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// An image's header, header extensions, L1 table and refcount table, read and checked
/// before any I/O is served. Everything here comes from a file we do not trust (a guest may
/// have written it, or a crash truncated it), so every offset and size is bounded before use
/// and a bad one becomes <see cref="DiskImageError.Corrupt"/> — never an out-of-range
/// allocation, read or write later.
/// </summary>
internal sealed class Qcow2Metadata
{
    /// <summary>qemu's QCOW_MAX_L1_SIZE (32 MiB of entries): bounds the memory a hostile header can make us allocate.</summary>
    private const long MaxL1Bytes = 32L << 20;

    /// <summary>qemu's QCOW_MAX_REFTABLE_SIZE (8 MiB), for the same reason.</summary>
    private const long MaxRefcountTableBytes = 8L << 20;

    private const int MaxBackingNameLength = 1023;

    private Qcow2Metadata(Qcow2Header header, Qcow2Geometry geometry)
    {
        Header = header;
        Geometry = geometry;
    }

    public Qcow2Header Header { get; }

    public Qcow2Geometry Geometry { get; }

    public string? BackingFile { get; private set; }

    /// <summary>From the backing file format extension (0xE2792ACA); null if absent.</summary>
    public string? BackingFormat { get; private set; }

    public ulong[] L1 { get; private set; } = [];

    public ulong[] RefcountTable { get; private set; } = [];

    public static Qcow2Metadata Read(SafeFileHandle file, string path, bool readOnly)
    {
        var fileLength = ImageFile.Length(file, path);
        Span<byte> head = stackalloc byte[Qcow2Header.Size];
        if (fileLength < Qcow2Header.V3MinimumLength)
        {
            throw Corrupt(path, $"file is {fileLength} bytes, shorter than a qcow2 header (truncated?)");
        }

        ImageFile.ReadAt(file, path, head, 0);
        var h = Qcow2Header.Parse(head);
        CheckHeader(path, h, fileLength, readOnly);
        var meta = new Qcow2Metadata(h, new Qcow2Geometry((int)h.ClusterBits, (long)h.VirtualSize));
        meta.ReadHeaderCluster(file, path);
        meta.L1 = ReadTable(file, path, (long)h.L1TableOffset, h.L1Size, "L1 table");
        meta.RefcountTable = ReadTable(file, path, (long)h.RefcountTableOffset, h.RefcountTableClusters * (long)meta.Geometry.L2Entries, "refcount table");
        meta.CheckTables(file, path, fileLength);
        return meta;
    }

    private static void CheckHeader(string path, Qcow2Header h, long fileLength, bool readOnly)
    {
        if (h.Magic != Qcow2Header.QcowMagic)
        {
            throw Corrupt(path, "not a qcow2 image (bad magic)");
        }

        if (h.Version != 3)
        {
            throw Unsupported(path, $"qcow2 version {h.Version} (only version 3 is supported)");
        }

        if (h.ClusterBits is < 9 or > 21)
        {
            throw Corrupt(path, $"cluster_bits {h.ClusterBits} outside 9..21");
        }

        var clusterSize = 1L << (int)h.ClusterBits;
        if (h.HeaderLength < Qcow2Header.V3MinimumLength || h.HeaderLength > clusterSize)
        {
            throw Corrupt(path, $"header_length {h.HeaderLength} invalid");
        }

        if (h.CryptMethod != 0)
        {
            throw Unsupported(path, "image is encrypted (crypt_method " + h.CryptMethod + ")");
        }

        var unsupported = h.IncompatibleFeatures & ~(Qcow2Features.DirtyBit | Qcow2Features.CorruptBit);
        if (unsupported != 0)
        {
            throw Unsupported(path, "image uses " + Qcow2Features.NameIncompatible(unsupported));
        }

        if (h.CompressionType != 0)
        {
            throw Unsupported(path, $"compression type {h.CompressionType}");
        }

        if (h.VirtualSize > long.MaxValue / 2 || h.VirtualSize % IDiskImage.SectorSize != 0)
        {
            throw Corrupt(path, $"virtual size {h.VirtualSize} invalid");
        }

        if ((ulong)h.L1Size * 8 > MaxL1Bytes || h.L1Size < Qcow2Geometry.L1EntriesFor((long)h.VirtualSize, (int)h.ClusterBits))
        {
            throw Corrupt(path, $"L1 table size {h.L1Size} does not fit the virtual size {h.VirtualSize}");
        }

        CheckTablePlacement(path, h.L1TableOffset, (ulong)h.L1Size * 8, clusterSize, fileLength, "L1 table", allowEmpty: h.L1Size == 0);
        var refBytes = (ulong)h.RefcountTableClusters * (ulong)clusterSize;
        if (h.RefcountTableClusters == 0 || refBytes > MaxRefcountTableBytes)
        {
            throw Corrupt(path, $"refcount table of {h.RefcountTableClusters} clusters invalid");
        }

        CheckTablePlacement(path, h.RefcountTableOffset, refBytes, clusterSize, fileLength, "refcount table", allowEmpty: false);
        if (h.BackingFileOffset != 0 &&
            (h.BackingFileSize == 0 || h.BackingFileSize > MaxBackingNameLength ||
             h.BackingFileOffset + h.BackingFileSize > (ulong)clusterSize))
        {
            throw Corrupt(path, "backing file name outside the header cluster");
        }

        if (!readOnly)
        {
            CheckWritable(path, h);
        }
    }

    /// <summary>What we can read but must not write (qcow2.txt: dirty/corrupt bits; our own limits).</summary>
    private static void CheckWritable(string path, Qcow2Header h)
    {
        if ((h.IncompatibleFeatures & Qcow2Features.CorruptBit) != 0)
        {
            throw Corrupt(path, "image is marked corrupt; repair it (qemu-img check -r all) or open it read-only");
        }

        if ((h.IncompatibleFeatures & Qcow2Features.DirtyBit) != 0)
        {
            throw Unsupported(path, "image is dirty (lazy refcounts); run qemu-img check -r all or open it read-only");
        }

        if (h.RefcountOrder != 4)
        {
            throw Unsupported(path, $"refcount_order {h.RefcountOrder} (only 4, 16-bit refcounts, is writable)");
        }

        if (h.NbSnapshots != 0)
        {
            throw Unsupported(path, "image has internal snapshots; writing it is not supported (open read-only)");
        }
    }

    private static void CheckTablePlacement(string path, ulong offset, ulong bytes, long clusterSize, long fileLength, string what, bool allowEmpty)
    {
        if (allowEmpty && bytes == 0)
        {
            return;
        }

        if (offset == 0 || offset % (ulong)clusterSize != 0)
        {
            throw Corrupt(path, $"{what} offset {offset} is not a non-zero cluster boundary");
        }

        if (offset > (ulong)fileLength || bytes > (ulong)fileLength - offset)
        {
            throw Corrupt(path, $"{what} at {offset}+{bytes} extends past the end of the {fileLength}-byte file (truncated?)");
        }
    }

    private static ulong[] ReadTable(SafeFileHandle file, string path, long offset, long entries, string what)
    {
        var table = new ulong[entries];
        if (entries == 0)
        {
            return table;
        }

        var bytes = new byte[entries * 8];
        ImageFile.ReadAt(file, path, bytes, offset);
        for (var i = 0; i < entries; i++)
        {
            table[i] = BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(i * 8));
        }

        _ = what;
        return table;
    }

    /// <summary>Header extensions (qcow2.txt, "Header extensions") and the backing file name, all inside cluster 0.</summary>
    private void ReadHeaderCluster(SafeFileHandle file, string path)
    {
        var cluster = new byte[Geometry.ClusterSize];
        ImageFile.ReadAt(file, path, cluster, 0);
        var at = (int)Header.HeaderLength;
        while (true)
        {
            if (at + 8 > cluster.Length)
            {
                throw Corrupt(path, "header extensions run past the first cluster (no end marker)");
            }

            var type = BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan(at));
            var length = BinaryPrimitives.ReadUInt32BigEndian(cluster.AsSpan(at + 4));
            if (type == Qcow2Features.ExtensionEnd)
            {
                break;
            }

            if (length > cluster.Length - at - 8)
            {
                throw Corrupt(path, $"header extension 0x{type:x8} of {length} bytes runs past the first cluster");
            }

            var data = cluster.AsSpan(at + 8, (int)length);
            if (type == Qcow2Features.ExtensionBackingFormat)
            {
                BackingFormat = Encoding.UTF8.GetString(data);
            }
            else if (type is Qcow2Features.ExtensionFullDiskEncryption or Qcow2Features.ExtensionExternalDataFile)
            {
                throw Unsupported(path, $"header extension 0x{type:x8} (encryption / external data file)");
            }

            // Unknown extensions are skipped (the spec allows it); we never rewrite this cluster.
            at += 8 + (int)((length + 7) & ~7u);
        }

        if (Header.BackingFileOffset != 0)
        {
            BackingFile = Encoding.UTF8.GetString(cluster.AsSpan((int)Header.BackingFileOffset, (int)Header.BackingFileSize));
            if (BackingFile.Contains('\0', StringComparison.Ordinal) || BackingFile.Length == 0)
            {
                throw Corrupt(path, "backing file name is empty or holds NUL");
            }
        }
    }

    /// <summary>
    /// Every L1 entry and every L2 table, once: the cost is one read per 512 MiB of mapped disk
    /// (64 KiB clusters), and in exchange a compressed cluster or a garbage pointer is refused
    /// at open with a clear error instead of failing some guest request later.
    /// </summary>
    private void CheckTables(SafeFileHandle file, string path, long fileLength)
    {
        foreach (var entry in RefcountTable)
        {
            if ((entry & ~L2Entry.OffsetMask) != 0)
            {
                throw Corrupt(path, $"refcount table entry 0x{entry:x16} has reserved bits set");
            }

            if ((long)(entry & L2Entry.OffsetMask) >= fileLength)
            {
                throw Corrupt(path, $"refcount block at {entry & L2Entry.OffsetMask} is past the end of the file");
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Geometry.ClusterSize);
        try
        {
            var span = buffer.AsSpan(0, Geometry.ClusterSize);
            foreach (var l1 in L1)
            {
                if ((l1 & L2Entry.L1ReservedMask) != 0)
                {
                    throw Corrupt(path, $"L1 entry 0x{l1:x16} has reserved bits set");
                }

                var l2Offset = L2Entry.HostOffset(l1);
                if (l2Offset == 0)
                {
                    continue;
                }

                if ((l2Offset & Geometry.ClusterMask) != 0 || l2Offset > fileLength - Geometry.ClusterSize)
                {
                    throw Corrupt(path, $"L2 table at {l2Offset} is unaligned or past the end of the file");
                }

                ImageFile.ReadAt(file, path, span, l2Offset);
                CheckL2(path, span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void CheckL2(string path, ReadOnlySpan<byte> table)
    {
        for (var i = 0; i < Geometry.L2Entries; i++)
        {
            var entry = BinaryPrimitives.ReadUInt64BigEndian(table[(i * 8)..]);
            if (L2Entry.IsCompressed(entry))
            {
                throw Unsupported(path, "image has compressed clusters (compression is not supported)");
            }

            if ((entry & L2Entry.L2ReservedMask) != 0 || (entry & ~(L2Entry.OffsetMask | L2Entry.Copied | L2Entry.ZeroFlag)) != 0)
            {
                throw Corrupt(path, $"L2 entry 0x{entry:x16} has reserved bits set");
            }

            if ((L2Entry.HostOffset(entry) & Geometry.ClusterMask) != 0)
            {
                throw Corrupt(path, $"L2 entry 0x{entry:x16} points to an unaligned cluster");
            }
        }
    }

    private static DiskImageException Corrupt(string path, string reason) => new(path, DiskImageError.Corrupt, reason);

    private static DiskImageException Unsupported(string path, string reason) => new(path, DiskImageError.Unsupported, reason);
}
