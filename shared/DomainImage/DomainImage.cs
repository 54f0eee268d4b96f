namespace Disagg.DomainImage;

/// <summary>
/// A whole domain image, read and checked: what a restore rebuilds a domain from. Memory stays compressed
/// here; the kernel decompresses each run straight into the new domain's frames.
/// </summary>
public sealed record DomainImage
{
    public required ImageHeader Header { get; init; }

    public required DomainRecord Domain { get; init; }

    /// <summary>One per vCPU (MaxVcpus of them), in index order.</summary>
    public required IReadOnlyList<VcpuRecord> Vcpus { get; init; }

    public required IReadOnlyList<MemoryRecord> Memory { get; init; }

    public required IReadOnlyList<ZeroPagesRecord> ZeroPages { get; init; }

    public required EventChannelsRecord EventChannels { get; init; }

    public required GrantTableRecord GrantTable { get; init; }

    /// <summary>An HVM domain's platform; null for a PV domain.</summary>
    public HvmPlatformRecord? HvmPlatform { get; init; }

    /// <summary>An HVM domain's device model state, when it had a device model.</summary>
    public DeviceModelRecord? DeviceModel { get; init; }
}
