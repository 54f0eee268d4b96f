namespace Disagg.Virtio.Net;

/// <summary>
/// The other end of a virtio-net device: where the guest's frames go and who delivers frames to it
/// (<see cref="VirtioNetDevice.TryDeliver"/>). qemu-dm connects it to a port on netback's switch.
/// Called on the device's thread.
/// </summary>
public interface IVirtioNetPort
{
    /// <summary>A frame the guest sent (Ethernet header on, virtio_net_hdr off). The span is valid only during the call.</summary>
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>The guest posted receive buffers: frames held back for lack of them can be delivered now.</summary>
    void ReceiveBuffersPosted();
}
