namespace Disagg.Control.Messages;

/// <summary>
/// One row of `disagg list`: state as Xen's letters (r b p s c d), shutdown reason when shut down, why the kernel
/// crashed it when it did (a device model's garbage answer or silence; "" otherwise); and what a
/// backend needs to (re)attach to the domain after it restarts: the guest's console and xenstore event
/// channel ports and frames (their pages are grant refs 0 and 1, as in Xen).
/// </summary>
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
    bool IsService,
    int ConsolePort = 0,
    int XenstorePort = 0,
    ulong ConsoleFrame = 0,
    ulong XenstoreFrame = 0,
    int ConsoleBackendDomain = 0,
    int XenstoreDomain = 0,
    string CrashReason = "");
