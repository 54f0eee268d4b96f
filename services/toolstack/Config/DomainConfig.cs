using System.Text.Json.Serialization;

namespace Disagg.Toolstack.Config;

/// <summary>A guest's configuration as the toolstack acts on it, read from an xl.cfg file by <see cref="DomainConfigReader"/>.</summary>
public sealed record DomainConfig
{
    /// <summary>Xen's default credit weight.</summary>
    public const int DefaultWeight = 256;

    /// <summary>shared_info has this many vcpu_info slots (Disagg.Abi SharedInfo.LegacyMaxVcpus).</summary>
    public const int MaxVcpuCount = 32;

    public required string Name { get; init; }

    public DomainType Type { get; init; } = DomainType.Pv;

    [JsonPropertyName("memory")]
    public required int MemoryMiB { get; init; }

    [JsonPropertyName("maxmem")]
    public required int MaxMemMiB { get; init; }

    public int Vcpus { get; init; } = 1;

    [JsonPropertyName("maxvcpus")]
    public int MaxVcpus { get; init; } = 1;

    /// <summary>Hard affinity per vCPU; one entry applies to all vCPUs.</summary>
    public IReadOnlyList<CpuSet> Cpus { get; init; } = [CpuSet.All];

    [JsonPropertyName("cpu_weight")]
    public int Weight { get; init; } = DefaultWeight;

    /// <summary>Percent of one pCPU; 0 means no cap.</summary>
    public int Cap { get; init; }

    public string? Kernel { get; init; }

    public string? Ramdisk { get; init; }

    public string CommandLine { get; init; } = "";

    public IReadOnlyList<DiskSpec> Disks { get; init; } = [];

    public IReadOnlyList<VifSpec> Vifs { get; init; } = [];

    public LifecycleAction OnPoweroff { get; init; } = LifecycleAction.Destroy;

    public LifecycleAction OnReboot { get; init; } = LifecycleAction.Restart;

    public LifecycleAction OnCrash { get; init; } = LifecycleAction.Destroy;

    public string? Uuid { get; init; }

    /// <summary>The kernel's default answer timeout for a device model (IoreqServer.DefaultAnswerTimeout).</summary>
    public const int DefaultDeviceModelTimeoutSeconds = 30;

    /// <summary>
    /// device_model_timeout (HVM; ours, xl has none): how long qemu-dm, while its process is there, may leave a vCPU
    /// waiting on an ioreq before the kernel crashes the domain (on_crash applies). A qemu-dm that died does not
    /// count: the request waits for its successor.
    /// </summary>
    [JsonPropertyName("device_model_timeout")]
    public int DeviceModelTimeoutSeconds { get; init; } = DefaultDeviceModelTimeoutSeconds;
}
