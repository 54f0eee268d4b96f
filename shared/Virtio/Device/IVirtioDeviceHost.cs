using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Device;

/// <summary>What a device reaches of its transport: its queues and the config-change interrupt.</summary>
public interface IVirtioDeviceHost
{
    Virtqueue Queue(int index);

    /// <summary>The device's configuration space changed: bump ConfigGeneration and interrupt (§2.5.1).</summary>
    void ConfigChanged();
}
