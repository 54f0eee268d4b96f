using Disagg.Interop;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Ioreq;
using Disagg.Kernel.Core.Migration;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests.Ioreq;

/// <summary>
/// The ring pages an HVM domain's device model maps (issue 13: qemu-dm sees only what virtqueues point at, never the
/// RAM as one descriptor): each page alone, shared both ways with the guest, only whole pages within RAM, bounded in
/// number, counted dirty in every round of a dirty log, and forgotten when the device model lets them go.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class DeviceModelPagesTests : IDisposable
{
    private const ulong Ram = 0x8000_0000;

    private readonly HypervisorFixture _hv = new();

    public void Dispose() => _hv.Dispose();

    [Fact]
    public void ARingPageIsHandedOverAloneAndSharedBothWaysWithTheGuest()
    {
        var d = Hvm(64);
        var pages = d.Ioreq!.RingPages;
        var fds = pages.Map(Ram + 0x2000, 2, out var why);
        Assert.True(fds is not null, why);
        Assert.Equal(2, fds.Length);
        Assert.Equal(2, pages.Count);
        using var first = SharedMemorySegment.Map(fds[0], 1);
        using var second = SharedMemorySegment.Map(fds[1], 1);
        using (var reopened = File.OpenHandle($"/proc/self/fd/{first.Fd.Value}"))
        {
            Assert.Equal(4096, RandomAccess.GetLength(reopened)); // that page, nothing more of the RAM
        }


        first.Span[8] = 0x5A;
        var back = new byte[1];
        Assert.True(DeviceModelMemory.TryCopy(d, Ram + 0x2008, back, write: false));
        Assert.Equal(0x5A, back[0]);
        Assert.True(DeviceModelMemory.TryCopy(d, Ram + 0x3010, [0x77], write: true));
        Assert.Equal(0x77, second.Span[0x10]);

        // The same page again is the same page, not another copy.
        var again = pages.Map(Ram + 0x2000, 1, out why)!;
        using var third = SharedMemorySegment.Map(again[0], 1);
        Assert.Equal(0x5A, third.Span[8]);
        Assert.Equal(2, pages.Count);
    }

    [Theory]
    [InlineData(Ram + 0x2001, 1, "are not whole pages within its RAM")]
    [InlineData(Ram - 0x1000, 1, "are not whole pages within its RAM")]
    [InlineData(Ram + (63 * 0x1000), 2, "are not whole pages within its RAM")]
    [InlineData(Ram, 17, "(1..16 a request)")]
    [InlineData(Ram, 0, "(1..16 a request)")]
    [InlineData(0xFFFF_FFFF_FFFF_F000, 2, "are not whole pages within its RAM")]
    public void PagesOutsideRamOrTooManyAtOnceAreRefused(ulong address, int count, string reason)
    {
        var d = Hvm(64);
        Assert.Null(d.Ioreq!.RingPages.Map(address, count, out var why));
        Assert.Contains(reason, why, StringComparison.Ordinal);
        Assert.Equal(0, d.Ioreq.RingPages.Count);
    }

    [Fact]
    public void ADeviceModelHoldsAtMost256PagesAndGivesThemBack()
    {
        var d = Hvm(320);
        var pages = d.Ioreq!.RingPages;
        for (var i = 0; i < DeviceModelPages.MaxPages / 16; i++)
        {
            foreach (var fd in pages.Map(Ram + ((ulong)i * 16 * 4096), 16, out var why) ?? throw new InvalidOperationException(why))
            {
                fd.Dispose();
            }
        }

        Assert.Equal(DeviceModelPages.MaxPages, pages.Count);
        Assert.Null(pages.Map(Ram + (300 * 4096UL), 1, out var refused));
        Assert.Contains("holds 256 pages mapped; 1 more would pass 256", refused, StringComparison.Ordinal);

        pages.Unmap(Ram, 16);
        Assert.Equal(DeviceModelPages.MaxPages - 16, pages.Count);
        pages.Forget(); // a new device model process
        Assert.Equal(0, pages.Count);
    }

    /// <summary>qemu-dm writes used rings through its mapping, which the P2M does not see: the dirty log counts its pages in every round.</summary>
    [Fact]
    public void MappedRingPagesAreDirtyInEveryRoundOfTheLog()
    {
        var d = Hvm(64);
        foreach (var fd in d.Ioreq!.RingPages.Map(Ram + 0x5000, 1, out var why) ?? throw new InvalidOperationException(why))
        {
            fd.Dispose();
        }

        DirtyLog.Enable(d);
        for (var round = 0; round < 2; round++)
        {
            var bitmap = DirtyLog.Clean(_hv.Hypervisor, d);
            Assert.Equal(1, DirtyLog.Count(bitmap));
            Assert.NotEqual(0UL, bitmap[0] & (1UL << 5));
        }

        DirtyLog.Disable(d);
    }

    private Domain Hvm(long pages) =>
        _hv.Hypervisor.CreateDomain(new DomainSpec { Name = $"hvm{Guid.NewGuid():N}"[..12], MemoryPages = pages, MaxMemoryPages = pages, Hvm = true });
}
