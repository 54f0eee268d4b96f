namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Bit layout of L1 and L2 table entries (qcow2.txt, "Cluster mapping"):
/// L1: bits 9-55 L2 table offset, bit 63 COPIED; L2 (standard cluster): bit 0 "reads as
/// zeros", bits 9-55 host cluster offset, bit 62 compressed, bit 63 COPIED (refcount is
/// exactly 1, so the cluster may be written in place).
/// </summary>
internal static class L2Entry
{
    public const ulong Copied = 1UL << 63;
    public const ulong Compressed = 1UL << 62;
    public const ulong ZeroFlag = 1UL << 0;
    public const ulong OffsetMask = 0x00FF_FFFF_FFFF_FE00UL;

    /// <summary>Bits 1-8 of a standard L2 entry must be zero.</summary>
    public const ulong L2ReservedMask = 0x1FEUL;

    /// <summary>Bits 0-8 and 56-62 of an L1 entry must be zero.</summary>
    public const ulong L1ReservedMask = 0x7F00_0000_0000_01FFUL;

    public static long HostOffset(ulong entry) => (long)(entry & OffsetMask);

    public static bool IsCompressed(ulong entry) => (entry & Compressed) != 0;

    public static bool IsZero(ulong entry) => (entry & ZeroFlag) != 0;

    /// <summary>A standard entry's cluster as it will be read: data at an offset, zeros, or "ask the backing file".</summary>
    public static ClusterKind Classify(ulong entry)
    {
        if (IsZero(entry))
        {
            return ClusterKind.Zero;
        }

        return HostOffset(entry) == 0 ? ClusterKind.Unallocated : ClusterKind.Data;
    }
}

/// <summary>How a guest cluster reads, decoded from its L2 entry.</summary>
internal enum ClusterKind
{
    Unallocated = 0,
    Zero = 1,
    Data = 2,
}
