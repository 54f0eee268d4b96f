namespace Disagg.Virtio.Net;

/// <summary>virtio-net wire constants (virtio 1.x §5.1): queues, feature bits, config offsets.</summary>
public static class VirtioNet
{
    public const int ReceiveQueue = 0;
    public const int TransmitQueue = 1;

    /// <summary>VIRTIO_NET_F_MAC (5): mac in config.</summary>
    public const ulong FeatureMac = 1UL << 5;

    /// <summary>VIRTIO_NET_F_STATUS (16): status in config.</summary>
    public const ulong FeatureStatus = 1UL << 16;

    /// <summary>VIRTIO_NET_S_LINK_UP.</summary>
    public const ushort StatusLinkUp = 1;

    public const int ConfigMac = 0;
    public const int ConfigStatus = 6;

    /// <summary>mac[6], status, max_virtqueue_pairs (1).</summary>
    public const int ConfigSize = 10;

    /// <summary>An Ethernet header: a shorter "frame" from the guest is dropped, never handed to the switch.</summary>
    public const int MinFrame = 14;

    /// <summary>Largest frame carried: no offloads are offered, so a frame is at most an MTU-sized packet; 64 KiB leaves room for any MTU.</summary>
    public const int MaxFrame = 65535;
}
