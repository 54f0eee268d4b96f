namespace Disagg.Virtio.Blk;

/// <summary>virtio-blk wire constants (virtio 1.x §5.2): feature bits, request types, status values, config offsets.</summary>
public static class VirtioBlk
{
    /// <summary>VIRTIO_BLK_F_SIZE_MAX (1).</summary>
    public const ulong FeatureSizeMax = 1UL << 1;

    /// <summary>VIRTIO_BLK_F_SEG_MAX (2): seg_max in config holds the most data segments per request.</summary>
    public const ulong FeatureSegMax = 1UL << 2;

    /// <summary>VIRTIO_BLK_F_RO (5): the disk is read-only.</summary>
    public const ulong FeatureRo = 1UL << 5;

    /// <summary>VIRTIO_BLK_F_BLK_SIZE (6): blk_size in config.</summary>
    public const ulong FeatureBlkSize = 1UL << 6;

    /// <summary>VIRTIO_BLK_F_FLUSH (9): FLUSH requests; without it the device must write through.</summary>
    public const ulong FeatureFlush = 1UL << 9;

    public const uint TypeIn = 0;
    public const uint TypeOut = 1;
    public const uint TypeFlush = 4;
    public const uint TypeGetId = 8;

    public const byte StatusOk = 0;
    public const byte StatusIoErr = 1;
    public const byte StatusUnsupported = 2;

    /// <summary>VIRTIO_BLK_ID_BYTES: the serial GET_ID returns, zero-padded.</summary>
    public const int IdBytes = 20;

    public const int SectorSize = 512;

    // struct virtio_blk_config offsets (§5.2.4).
    public const int ConfigCapacity = 0;
    public const int ConfigSizeMax = 8;
    public const int ConfigSegMax = 12;
    public const int ConfigGeometry = 16;
    public const int ConfigBlkSize = 20;
    public const int ConfigTopology = 24;
    public const int ConfigWriteback = 32;
    public const int ConfigNumQueues = 34;

    /// <summary>Through num_queues and its padding: the fields of the features we offer, and zeros.</summary>
    public const int ConfigSize = 36;
}
