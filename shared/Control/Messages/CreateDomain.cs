namespace Disagg.Control.Messages;

/// <summary>
/// Creates a paused, empty domain. Memory is reserved from the host budget at once; creation
/// past it fails with an error naming the numbers. Affinity: one mask per vCPU, or one for all.
/// Hvm: a fully virtualized domain (QEMU virt's machine, device-tree boot) for an unmodified kernel.
/// </summary>
public sealed record CreateDomain(
    string Name,
    GuestIsa Isa,
    int Vcpus,
    int MaxVcpus,
    long MemoryKiB,
    long MaxMemoryKiB,
    int Weight,
    int Cap,
    IReadOnlyList<ulong> Affinity,
    int ConsoleBackendDomain,
    int XenstoreDomain,
    bool Hvm = false) : ControlMessage;
