namespace Disagg.Kernel.Core.Memory;

/// <summary>A domain asked for more memory than the host has left; the message names the numbers.</summary>
public sealed class MemoryBudgetExceededException(int domainId, long requestedPages, long freePages, long totalPages)
    : Exception($"domain {domainId}: {Shortfall(requestedPages, freePages, totalPages)}")
{
    /// <summary>The numbers alone, for a caller that names the domain its own way (by name, before it has an id).</summary>
    public string Shortfall() => Shortfall(RequestedPages, FreePages, TotalPages);

    private static string Shortfall(long requested, long free, long total) =>
        $"needs {Mib(requested)} MiB but the host has {Mib(free)} MiB free of {Mib(total)} MiB";

    public int DomainId { get; } = domainId;

    public long RequestedPages { get; } = requestedPages;

    public long FreePages { get; } = freePages;

    public long TotalPages { get; } = totalPages;

    private static long Mib(long pages) => pages * 4096 / (1024 * 1024);
}
