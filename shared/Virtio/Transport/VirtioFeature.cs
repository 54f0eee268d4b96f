namespace Disagg.Virtio.Transport;

/// <summary>Device-independent feature bits (virtio 1.x §6) as masks of the 64-bit feature set.</summary>
public static class VirtioFeature
{
    /// <summary>VIRTIO_F_INDIRECT_DESC (28).</summary>
    public const ulong IndirectDesc = 1UL << 28;

    /// <summary>VIRTIO_F_EVENT_IDX (29).</summary>
    public const ulong EventIdx = 1UL << 29;

    /// <summary>VIRTIO_F_VERSION_1 (32): required; a driver that does not accept it is refused FEATURES_OK.</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>What every device of ours offers besides its own bits.</summary>
    public const ulong Transport = IndirectDesc | EventIdx | Version1;
}
