using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Tests;

public sealed unsafe class P2mTests : IDisposable
{
    private const ulong Ram = PvLayout.RamFirstFrame;
    private readonly HostMemoryBudget _budget = new(64L << 20); // 16384 pages
    private readonly P2m _p2m;

    public P2mTests()
    {
        _p2m = new P2m(3, new NativeRamBacking(1024), new NativeRamBacking(PvLayout.SpecialPages), initialPages: 512, _budget);
    }

    public void Dispose() => _p2m.Dispose();

    [Fact]
    public void RamAndSpecialPagesResolveAndNothingElseDoes()
    {
        Assert.True(_p2m.Frame(Ram, false) != null);
        Assert.True(_p2m.Frame(Ram + 511, true) != null);
        Assert.True(_p2m.Frame(Ram + 512, false) == null); // beyond memory=, within maxmem: not populated
        Assert.True(_p2m.Frame(Ram + 1024, false) == null);
        Assert.True(_p2m.Frame(PvLayout.SpecialFrame(PvLayout.SharedInfoPage), true) == _p2m.Special(PvLayout.SharedInfoPage));
        Assert.True(_p2m.Frame(0, false) == null);
        Assert.True(_p2m.Frame(ulong.MaxValue, false) == null);
        Assert.True(_p2m.Frame(PvLayout.SpecialFirstFrame - 1, false) == null);
    }

    [Fact]
    public void CreationReservesFromTheBudgetAndDisposeGivesItBack()
    {
        Assert.Equal(16384 - 512 - PvLayout.SpecialPages, _budget.FreePages);
        var second = new P2m(4, new NativeRamBacking(16), new NativeRamBacking(PvLayout.SpecialPages), 16, _budget);
        second.Dispose();
        Assert.Equal(16384 - 512 - PvLayout.SpecialPages, _budget.FreePages);
        Assert.Throws<MemoryBudgetExceededException>(() => new P2m(5, new NativeRamBacking(20000), new NativeRamBacking(PvLayout.SpecialPages), 20000, _budget));
    }

    [Fact]
    public void BallooningOutAndInMovesPagesAndTheBudget()
    {
        var free = _budget.FreePages;
        var gen = _p2m.Generation;
        *(long*)_p2m.Frame(Ram + 10, true) = 42;
        Assert.True(_p2m.Depopulate(Ram + 10));
        Assert.True(_p2m.Generation > gen);
        Assert.True(_p2m.Frame(Ram + 10, false) == null);
        Assert.False(_p2m.Depopulate(Ram + 10));
        Assert.Equal(511, _p2m.PopulatedPages);
        Assert.Equal(free + 1, _budget.FreePages);

        Assert.True(_p2m.Populate(Ram + 10));
        Assert.Equal(0, *(long*)_p2m.Frame(Ram + 10, false)); // a returned page comes back zeroed
        Assert.True(_p2m.Populate(Ram + 900)); // up to maxmem
        Assert.False(_p2m.Populate(Ram + 1024)); // never beyond it
        Assert.False(_p2m.Depopulate(PvLayout.SpecialFrame(0))); // special pages are not RAM
        Assert.Equal(513, _p2m.PopulatedPages);
    }

    [Fact]
    public void PopulateStopsAtTheHostBudget()
    {
        var tight = new HostMemoryBudget((512 + PvLayout.SpecialPages + 2) * 4096L);
        using var p = new P2m(6, new NativeRamBacking(1024), new NativeRamBacking(PvLayout.SpecialPages), 512, tight);
        Assert.True(p.Populate(Ram + 600));
        Assert.True(p.Populate(Ram + 601));
        Assert.False(p.Populate(Ram + 602));
    }

    [Fact]
    public void DirtyLoggingRecordsFirstWritesPerRound()
    {
        _p2m.Frame(Ram + 5, true);
        _p2m.SetDirtyLogging(true);
        _p2m.Frame(Ram + 7, false); // reads do not dirty
        _p2m.Frame(Ram + 8, true);
        _p2m.Frame(PvLayout.SpecialFrame(PvLayout.ConsolePage), true);
        var bitmap = _p2m.TakeDirtyBitmap();
        var frames = Bits(bitmap).Select(_p2m.FrameOfDirtyBit).ToArray();
        Assert.Equal([Ram + 8, PvLayout.SpecialFrame(PvLayout.ConsolePage)], frames);
        Assert.Empty(Bits(_p2m.TakeDirtyBitmap()));
        _p2m.SetDirtyLogging(false);
        _p2m.Frame(Ram + 9, true);
        Assert.Empty(Bits(_p2m.TakeDirtyBitmap()));
    }

    private static IEnumerable<long> Bits(ulong[] bitmap)
    {
        for (var i = 0; i < bitmap.Length * 64; i++)
        {
            if ((bitmap[i / 64] & (1UL << (i % 64))) != 0)
            {
                yield return i;
            }
        }
    }
}
