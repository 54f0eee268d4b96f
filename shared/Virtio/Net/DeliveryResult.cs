namespace Disagg.Virtio.Net;

/// <summary>What became of a frame offered to the guest.</summary>
public enum DeliveryResult
{
    Delivered = 0,

    /// <summary>No receive buffer posted (or the device is not running): keep the frame or drop it, and wait for <see cref="IVirtioNetPort.ReceiveBuffersPosted"/>.</summary>
    NoBuffer = 1,

    /// <summary>The frame is larger than the buffer the guest posted, or than <see cref="VirtioNet.MaxFrame"/>: dropped, and counted.</summary>
    Dropped = 2,
}
