namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Address arithmetic of one image: guest offset -> (L1 index, L2 index, offset in cluster),
/// and refcount block coverage (qcow2.txt, "Cluster mapping" and "Host cluster management").
/// </summary>
internal readonly struct Qcow2Geometry
{
    public Qcow2Geometry(int clusterBits, long virtualSize)
    {
        ClusterBits = clusterBits;
        VirtualSize = virtualSize;
    }

    public int ClusterBits { get; }

    public long VirtualSize { get; }

    public int ClusterSize => 1 << ClusterBits;

    /// <summary>An L2 table is one cluster of 8-byte entries.</summary>
    public int L2Bits => ClusterBits - 3;

    public int L2Entries => 1 << L2Bits;

    /// <summary>refcount_order 4: 16-bit entries, so a refcount block covers cluster_size / 2 clusters.</summary>
    public int RefcountBlockEntries => ClusterSize / 2;

    public long ClusterMask => ClusterSize - 1;

    /// <summary>L1 entries needed to map <paramref name="virtualSize"/> bytes.</summary>
    public static long L1EntriesFor(long virtualSize, int clusterBits)
    {
        var bytesPerL2 = 1L << (clusterBits + clusterBits - 3);
        return (virtualSize + bytesPerL2 - 1) / bytesPerL2;
    }

    public long L1Index(long guestOffset) => guestOffset >> (ClusterBits + L2Bits);

    public int L2Index(long guestOffset) => (int)((guestOffset >> ClusterBits) & (L2Entries - 1));

    public int OffsetInCluster(long offset) => (int)(offset & ClusterMask);

    public long ClusterIndex(long hostOffset) => hostOffset >> ClusterBits;

    public long ClusterOffset(long clusterIndex) => clusterIndex << ClusterBits;

    public long ClustersFor(long bytes) => (bytes + ClusterSize - 1) >> ClusterBits;
}
