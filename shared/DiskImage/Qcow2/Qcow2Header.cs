using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// The qcow2 header as on disk (qemu docs/interop/qcow2.txt, "Header"): big-endian fields
/// at fixed offsets. Fields hold host-order values; <see cref="Parse"/> and
/// <see cref="WriteTo"/> do the byte swapping, so the layout itself is the spec's.
/// Version 3 headers are at least 104 bytes; qemu 5.1+ writes 112 (compression_type + padding).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct Qcow2Header
{
    public const int Size = 112;
    public const int V3MinimumLength = 104;
    public const uint QcowMagic = 0x514649FB; // "QFI\xfb"

    [FieldOffset(0)] public uint Magic;
    [FieldOffset(4)] public uint Version;
    [FieldOffset(8)] public ulong BackingFileOffset;
    [FieldOffset(16)] public uint BackingFileSize;
    [FieldOffset(20)] public uint ClusterBits;
    [FieldOffset(24)] public ulong VirtualSize;
    [FieldOffset(32)] public uint CryptMethod;
    [FieldOffset(36)] public uint L1Size;
    [FieldOffset(40)] public ulong L1TableOffset;
    [FieldOffset(48)] public ulong RefcountTableOffset;
    [FieldOffset(56)] public uint RefcountTableClusters;
    [FieldOffset(60)] public uint NbSnapshots;
    [FieldOffset(64)] public ulong SnapshotsOffset;
    [FieldOffset(72)] public ulong IncompatibleFeatures;
    [FieldOffset(80)] public ulong CompatibleFeatures;
    [FieldOffset(88)] public ulong AutoclearFeatures;
    [FieldOffset(96)] public uint RefcountOrder;
    [FieldOffset(100)] public uint HeaderLength;

    /// <summary>Only meaningful when HeaderLength &gt; 104; 0 = zlib (the only value we accept, and we never compress).</summary>
    [FieldOffset(104)] public byte CompressionType;

    /// <summary>Decodes the first <see cref="Size"/> bytes; a v3 header of 104 bytes reads CompressionType as 0.</summary>
    public static Qcow2Header Parse(ReadOnlySpan<byte> bytes)
    {
        Span<byte> copy = stackalloc byte[Size];
        copy.Clear();
        bytes[..Math.Min(bytes.Length, Size)].CopyTo(copy);
        var h = MemoryMarshal.Read<Qcow2Header>(copy);
        h.SwapIfLittleEndian();
        if (h.HeaderLength <= V3MinimumLength)
        {
            h.CompressionType = 0;
        }

        return h;
    }

    public readonly void WriteTo(Span<byte> destination)
    {
        var h = this;
        h.SwapIfLittleEndian();
        MemoryMarshal.Write(destination, in h);
    }

    private void SwapIfLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            return;
        }

        Magic = BinaryPrimitives.ReverseEndianness(Magic);
        Version = BinaryPrimitives.ReverseEndianness(Version);
        BackingFileOffset = BinaryPrimitives.ReverseEndianness(BackingFileOffset);
        BackingFileSize = BinaryPrimitives.ReverseEndianness(BackingFileSize);
        ClusterBits = BinaryPrimitives.ReverseEndianness(ClusterBits);
        VirtualSize = BinaryPrimitives.ReverseEndianness(VirtualSize);
        CryptMethod = BinaryPrimitives.ReverseEndianness(CryptMethod);
        L1Size = BinaryPrimitives.ReverseEndianness(L1Size);
        L1TableOffset = BinaryPrimitives.ReverseEndianness(L1TableOffset);
        RefcountTableOffset = BinaryPrimitives.ReverseEndianness(RefcountTableOffset);
        RefcountTableClusters = BinaryPrimitives.ReverseEndianness(RefcountTableClusters);
        NbSnapshots = BinaryPrimitives.ReverseEndianness(NbSnapshots);
        SnapshotsOffset = BinaryPrimitives.ReverseEndianness(SnapshotsOffset);
        IncompatibleFeatures = BinaryPrimitives.ReverseEndianness(IncompatibleFeatures);
        CompatibleFeatures = BinaryPrimitives.ReverseEndianness(CompatibleFeatures);
        AutoclearFeatures = BinaryPrimitives.ReverseEndianness(AutoclearFeatures);
        RefcountOrder = BinaryPrimitives.ReverseEndianness(RefcountOrder);
        HeaderLength = BinaryPrimitives.ReverseEndianness(HeaderLength);
    }
}
