namespace Disagg.Control.Messages;

/// <summary>One row of `disagg list`: state as Xen's letters (r b p s c d), shutdown reason when shut down.</summary>
public sealed record DomainSummary(
    int DomainId,
    string Name,
    string State,
    int ShutdownReason,
    long MemoryKiB,
    long MaxMemoryKiB,
    long TargetKiB,
    int VcpusOnline,
    int MaxVcpus,
    long CpuTimeNs,
    bool IsService);
