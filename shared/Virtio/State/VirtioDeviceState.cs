namespace Disagg.Virtio.State;

/// <summary>
/// Everything a virtio-mmio device needs to carry on after its process is replaced (SIGKILL and restart,
/// save/restore, migration): the transport's registers, the negotiated features and each queue. The
/// device's own configuration (disk, MAC) comes from the domain's config, not from here.
/// Written by <see cref="VirtioStateCodec"/>; <see cref="FormatVersion"/> changes when the layout does.
/// </summary>
public sealed record VirtioDeviceState
{
    public const ushort FormatVersion = 1;

    public required uint DeviceId { get; init; }

    public required byte Status { get; init; }

    public required uint DeviceFeaturesSel { get; init; }

    public required uint DriverFeaturesSel { get; init; }

    /// <summary>What the driver wrote; in force once Status has FEATURES_OK.</summary>
    public required ulong DriverFeatures { get; init; }

    public required uint QueueSel { get; init; }

    public required uint InterruptStatus { get; init; }

    public required uint ConfigGeneration { get; init; }

    public required VirtqueueState[] Queues { get; init; }
}
