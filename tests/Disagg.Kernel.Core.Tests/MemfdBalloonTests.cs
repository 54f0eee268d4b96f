using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Tests;

/// <summary>Ballooning with the kernel's real backing: the host's RSS goes down.</summary>
public sealed unsafe class MemfdBalloonTests
{
    // Shared-memory RSS: memfd pages are counted there, and tests running beside this one (GC heaps,
    // other domains' private memory) do not move it the way they move VmRSS.
    private static long RssKiB() => long.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("RssShmem:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);

    [Fact]
    public void BallooningOutRealPagesLowersRss()
    {
        var budget = new HostMemoryBudget(1L << 30);
        const int Pages = 16384; // 64 MiB
        using var p2m = new P2m(1, new MemfdRamBacking("balloon-test", Pages), new NativeRamBacking(PvLayout.SpecialPages), Pages, budget);
        for (ulong i = 0; i < Pages; i++)
        {
            *(long*)p2m.Frame(PvLayout.RamFirstFrame + i, true) = 1; // touch: the memfd page now exists
        }

        var touched = RssKiB();
        for (ulong i = 0; i < Pages; i++)
        {
            Assert.True(p2m.Depopulate(PvLayout.RamFirstFrame + i));
        }

        var ballooned = RssKiB();
        Assert.True(touched - ballooned > 48 * 1024, $"RSS went from {touched} KiB to {ballooned} KiB");
        Assert.Equal(0, p2m.PopulatedPages);
    }
}
