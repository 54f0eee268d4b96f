namespace Disagg.Kernel.Core.Memory;

/// <summary>
/// The host memory given to guests at kernel start, counted in 4 KiB pages. Domain creation
/// and balloon growth reserve from it; destruction and balloon shrink return to it. Lock-free,
/// since balloon hypercalls reserve from any pCPU.
/// </summary>
public sealed class HostMemoryBudget
{
    public const int PageSize = 4096;

    private long _free;

    public HostMemoryBudget(long totalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalBytes);
        TotalPages = totalBytes / PageSize;
        _free = TotalPages;
    }

    public long TotalPages { get; }

    public long FreePages => Volatile.Read(ref _free);

    public long UsedPages => TotalPages - FreePages;

    /// <summary>Takes <paramref name="pages"/> or nothing.</summary>
    public bool TryReserve(long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        while (true)
        {
            var free = Volatile.Read(ref _free);
            if (pages > free)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _free, free - pages, free) == free)
            {
                return true;
            }
        }
    }

    /// <summary>Takes <paramref name="pages"/> for <paramref name="domainId"/> or throws an error that names the numbers.</summary>
    public void Reserve(int domainId, long pages)
    {
        if (!TryReserve(pages))
        {
            throw new MemoryBudgetExceededException(domainId, pages, FreePages, TotalPages);
        }
    }

    public void Release(long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        var after = Interlocked.Add(ref _free, pages);
        if (after > TotalPages)
        {
            // Releasing more than was reserved is our own bug: stop loudly (Xen's error rule).
            throw new InvalidOperationException($"host memory budget over-released: {after} free of {TotalPages} pages");
        }
    }
}
