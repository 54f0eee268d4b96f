namespace Disagg.Kernel.Core.Memory;

/// <summary>A domain asked for more memory than the host has left; the message names the numbers.</summary>
public sealed class MemoryBudgetExceededException(int domainId, long requestedPages, long freePages, long totalPages)
    : Exception($"domain {domainId}: needs {Mib(requestedPages)} MiB but the host has {Mib(freePages)} MiB free of {Mib(totalPages)} MiB")
{
    public int DomainId { get; } = domainId;

    public long RequestedPages { get; } = requestedPages;

    public long FreePages { get; } = freePages;

    public long TotalPages { get; } = totalPages;

    private static long Mib(long pages) => pages * 4096 / (1024 * 1024);
}
