using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Domains;

/// <summary>What the control domain asks for when it creates a domain.</summary>
public sealed record DomainSpec
{
    public required string Name { get; init; }

    public IsaWidth Isa { get; init; } = IsaWidth.Rv64;

    public int Vcpus { get; init; } = 1;

    public int MaxVcpus { get; init; } = 1;

    public long MemoryPages { get; init; }

    public long MaxMemoryPages { get; init; }

    public int Weight { get; init; } = 256;

    public int Cap { get; init; }

    /// <summary>Per-vCPU hard affinity masks; one entry applies to all; empty means every pCPU.</summary>
    public IReadOnlyList<ulong> Affinity { get; init; } = [];

    /// <summary>The domain that serves this guest's console ring (grant ref 0, console event channel).</summary>
    public int ConsoleBackend { get; init; }

    /// <summary>
    /// A fully virtualized domain: QEMU virt's machine (PLIC, MMIO dispatch, a device tree at boot)
    /// for an unmodified kernel, instead of PV's start_info and event upcalls.
    /// </summary>
    public bool Hvm { get; init; }

    /// <summary>The domain that serves its xenstore ring (grant ref 1, store event channel).</summary>
    public int XenstoreDomain { get; init; }
}
