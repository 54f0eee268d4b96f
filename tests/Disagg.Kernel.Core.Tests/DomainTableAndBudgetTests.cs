using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Tests;

public class DomainTableAndBudgetTests
{
    [Fact]
    public void IdsComeFromARoverAndAreNotReusedAtOnce()
    {
        var table = new DomainTable<string>();
        Assert.True(table.TryAdd(0, "dom0"));
        var a = table.Add(id => $"d{id}");
        var b = table.Add(id => $"d{id}");
        Assert.Equal((1, 2), (a, b));
        Assert.True(table.Remove(a, table[a]!));
        Assert.Equal(3, table.Add(id => $"d{id}"));
        Assert.Null(table[1]);
        Assert.Equal("d2", table[2]);
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public void ReservedAndWildIdsNameNothing()
    {
        var table = new DomainTable<string>();
        Assert.False(table.TryAdd(DomainTable<string>.FirstReserved, "x"));
        Assert.False(table.TryAdd(-1, "x"));
        Assert.Null(table[-5]);
        Assert.Null(table[0x7FF0]);
        Assert.Null(table[int.MaxValue]);
        Assert.False(table.Remove(99, "x"));
        Assert.True(table.TryAdd(5, "five"));
        Assert.False(table.TryAdd(5, "again"));
        Assert.False(table.Remove(5, "again"));
    }

    [Fact]
    public void TheRoverWrapsAndSkipsLiveIds()
    {
        var table = new DomainTable<object>(firstDynamicId: 1);
        var live = new object();
        Assert.True(table.TryAdd(2, live));
        for (var i = 1; i < DomainTable<object>.FirstReserved - 1; i++)
        {
            Assert.NotEqual(-1, table.Add(_ => new object()));
        }

        Assert.Equal(-1, table.Add(_ => new object())); // full
        Assert.Equal(DomainTable<object>.FirstReserved - 1, table.Count);
        Assert.True(table.Remove(2, live));
        Assert.Equal(2, table.Add(_ => new object()));
    }

    [Fact]
    public void BudgetRefusesPastItsTotalAndNamesTheNumbers()
    {
        var budget = new HostMemoryBudget(64L << 20);
        Assert.Equal(16384, budget.TotalPages);
        budget.Reserve(1, 12288);
        var e = Assert.Throws<MemoryBudgetExceededException>(() => budget.Reserve(2, 8192));
        Assert.Equal("domain 2: needs 32 MiB but the host has 16 MiB free of 64 MiB", e.Message);
        Assert.Equal(4096, budget.FreePages);
        budget.Release(12288);
        budget.Reserve(2, 8192);
        Assert.Throws<InvalidOperationException>(() => budget.Release(16384));
    }

    [Fact]
    public void ConcurrentReservationsNeverOvercommit()
    {
        var budget = new HostMemoryBudget(4096L * 10_000);
        var granted = 0;
        Parallel.For(0, 20_000, _ =>
        {
            if (budget.TryReserve(1))
            {
                Interlocked.Increment(ref granted);
            }
        });
        Assert.Equal(10_000, granted);
        Assert.Equal(0, budget.FreePages);
    }
}
