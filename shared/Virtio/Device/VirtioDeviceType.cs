namespace Disagg.Virtio.Device;

/// <summary>Virtio device ids (virtio 1.x §5): what DeviceID reads. Wire values.</summary>
public enum VirtioDeviceType : uint
{
    Network = 1,
    Block = 2,
    Console = 3,
    Entropy = 4,
}
