using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Device;

/// <summary>
/// One virtio device behind a transport: its id, features, queues and configuration space, and what it
/// does when a queue is notified. All calls arrive on the device's one thread (the transport's).
/// </summary>
public interface IVirtioDevice
{
    /// <summary>Names the device in faults and logs ("virtio-blk xvda", chosen by the host).</summary>
    string Name { get; }

    VirtioDeviceType Type { get; }

    /// <summary>Device-specific feature bits offered (the transport adds its own, <c>VirtioFeature.Transport</c>).</summary>
    ulong Features { get; }

    int QueueCount { get; }

    /// <summary>QueueNumMax of each queue: a power of two, at most 32768.</summary>
    ushort MaxQueueSize(int queue);

    /// <summary>Bytes of configuration space; reads past it are zero.</summary>
    int ConfigSize { get; }

    /// <summary>Fills <paramref name="destination"/> from configuration offset <paramref name="offset"/> (inside <see cref="ConfigSize"/>).</summary>
    void ReadConfig(int offset, Span<byte> destination);

    /// <summary>A driver write to the configuration space; devices without writable fields ignore it.</summary>
    void WriteConfig(int offset, ReadOnlySpan<byte> source);

    /// <summary>Once, by the transport's constructor.</summary>
    void Attach(IVirtioDeviceHost host);

    /// <summary>FEATURES_OK was accepted (or a saved state restored) with these negotiated features.</summary>
    void FeaturesAccepted(ulong features);

    /// <summary>The driver notified the queue (or a restore resumes it): take and complete what is available.</summary>
    void QueueNotified(Virtqueue queue);

    /// <summary>Status 0: forget negotiated features and anything in progress.</summary>
    void Reset();
}
