using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Core.Tests.Hvm;

public sealed class PlicTests
{
    private const ulong Threshold0 = 0x20_0000;
    private const ulong Claim0 = 0x20_0004;
    private const ulong Threshold1 = 0x20_1000;
    private const ulong Claim1 = 0x20_1004;
    private const ulong Enable0 = 0x2000;
    private const ulong Enable1 = 0x2080;

    private readonly bool[] _lines = new bool[2];
    private readonly Plic _plic;

    public PlicTests()
    {
        _plic = new Plic(2, 95, (c, high) => _lines[c] = high);
    }

    private uint Read(ulong offset)
    {
        Assert.True(_plic.TryRead(offset, 4, out var v));
        return (uint)v;
    }

    private void Write(ulong offset, uint value) => Assert.True(_plic.TryWrite(offset, 4, value));

    [Fact]
    public void ALevelIsClaimedOnceAndPendingAgainAfterCompleteWhileAsserted()
    {
        Write(4 * 10, 1);
        Write(Enable0, 1u << 10);
        _plic.SetLevel(10, true);
        Assert.True(_lines[0]);
        Assert.False(_lines[1]); // not enabled for hart 1
        Assert.Equal(1u << 10, Read(0x1000));

        Assert.Equal(10u, Read(Claim0));
        Assert.False(_lines[0]);
        Assert.Equal(0u, Read(0x1000));
        Assert.Equal(0u, Read(Claim0)); // nothing left: claim returns 0

        Write(Claim0, 10); // complete while the line is still high: pending again
        Assert.True(_lines[0]);
        Assert.Equal(10u, Read(Claim0));
        _plic.SetLevel(10, false);
        Write(Claim0, 10);
        Assert.False(_lines[0]);
        Assert.Equal(0u, Read(Claim0));
    }

    [Fact]
    public void TheHighestPriorityAboveTheThresholdWinsAndTiesGoToTheLowestId()
    {
        Write(Enable0, (1u << 3) | (1u << 5) | (1u << 7));
        Write(4 * 3, 2);
        Write(4 * 5, 6);
        Write(4 * 7, 6);
        _plic.SetLevel(3, true);
        _plic.SetLevel(5, true);
        _plic.SetLevel(7, true);
        Write(Threshold0, 5);
        Assert.Equal(5u, Read(Threshold0));
        Assert.Equal(5u, Read(Claim0));
        Assert.Equal(7u, Read(Claim0));
        Assert.Equal(0u, Read(Claim0)); // source 3's priority 2 is not above the threshold
        Assert.False(_lines[0]);
        Write(Threshold0, 0);
        Assert.True(_lines[0]);
        Assert.Equal(3u, Read(Claim0));
    }

    [Fact]
    public void EachHartHasItsOwnContext()
    {
        Write(4 * 1, 1);
        Write(Enable1, 1u << 1);
        _plic.SetLevel(1, true);
        Assert.False(_lines[0]);
        Assert.True(_lines[1]);
        Assert.Equal(0u, Read(Claim0));
        Assert.Equal(1u, Read(Claim1));
        Write(Threshold1, 7);
        Assert.Equal(7u, Read(Threshold1));
    }

    [Fact]
    public void ACompleteForAnotherIdOrFromAContextThatDoesNotEnableItIsIgnored()
    {
        Write(4 * 2, 1);
        Write(Enable0, 1u << 2);
        _plic.SetLevel(2, true);
        Assert.Equal(2u, Read(Claim0));
        Write(Claim1, 2); // context 1 does not enable source 2
        Write(Claim0, 3);
        Write(Claim0, 0);
        Write(Claim0, 1000);
        Assert.False(_lines[0]); // still in service: the gateway forwards nothing
        Write(Claim0, 2);
        Assert.True(_lines[0]);
    }

    [Fact]
    public void RegistersKeepOnlyTheirValidBits()
    {
        Write(4 * 1, 0xFFFF_FFFF);
        Assert.Equal(7u, Read(4 * 1));
        Write(4 * 0, 5); // source 0 does not exist
        Assert.Equal(0u, Read(0));
        Write(Enable0, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFEu, Read(Enable0)); // source 0 is never enabled
        Write(Enable0 + 8, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFu, Read(Enable0 + 8)); // sources 64..95
        Write(Enable0 + 12, 0xFFFF_FFFF);
        Assert.Equal(0u, Read(Enable0 + 12)); // beyond source 95
        Write(0x1000, 0xFFFF_FFFF);
        Assert.Equal(0u, Read(0x1000)); // pending is read-only
        Write(0x20_5000, 1); // a context this PLIC does not have
        Assert.Equal(0u, Read(0x20_5000));
    }

    [Fact]
    public void AccessesOtherThanAlignedWordsFault()
    {
        Assert.False(_plic.TryRead(Claim0, 8, out _));
        Assert.False(_plic.TryRead(Claim0, 1, out _));
        Assert.False(_plic.TryRead(Threshold0 + 2, 4, out _));
        Assert.False(_plic.TryWrite(Threshold0, 2, 1));
    }

    [Fact]
    public void ADeviceNamingASourceThatDoesNotExistIsOurBug()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _plic.SetLevel(0, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => _plic.SetLevel(96, true));
    }

    [Fact]
    public void ASavedPlicRestoredIntoANewOneGoesOnExactlyAsTheOriginal()
    {
        // Source 10 claimed by hart 0 and still asserted (in service), source 3 pending for hart 1, thresholds set.
        Write(4 * 10, 5);
        Write(4 * 3, 2);
        Write(Enable0, 1u << 10);
        Write(Enable1, (1u << 3) | (1u << 10));
        Write(Threshold1, 1);
        _plic.SetLevel(10, true);
        Assert.Equal(10u, Read(Claim0));
        _plic.SetLevel(3, true);
        var saved = _plic.Save();

        var lines = new bool[2];
        var copy = new Plic(2, 95, (c, high) => lines[c] = high);
        copy.Restore(saved);
        Assert.Equal(_lines, lines); // hart 1's SEIP is up in the copy too, hart 0's is not (10 is in service)
        Assert.True(lines[1]);
        var restored = copy.Save();
        Assert.Equal((saved.Sources, saved.Contexts), (restored.Sources, restored.Contexts));
        Assert.Equal(saved.Priority, restored.Priority);
        Assert.Equal(saved.Enable, restored.Enable);
        Assert.Equal(saved.Threshold, restored.Threshold);
        Assert.Equal(saved.Level, restored.Level);
        Assert.Equal(saved.Pending, copy.Save().Pending);
        Assert.Equal(saved.InService, copy.Save().InService);

        // Both go on the same way: hart 1 claims 3; hart 0 completes 10, still asserted, so it is pending again.
        foreach (var (plic, read, write) in new (Plic, Func<ulong, uint>, Action<ulong, uint>)[]
        {
            (_plic, Read, Write),
            (copy, o => copy.TryRead(o, 4, out var v) ? (uint)v : 0xDEAD, (o, v) => copy.TryWrite(o, 4, v)),
        })
        {
            Assert.Equal(3u, read(Claim1));
            write(Claim0, 10);
            Assert.Equal(1u << 10, read(0x1000) & (1u << 10));
            Assert.Equal(10u, read(Claim1));
        }
    }

    [Fact]
    public void AStateAGuestCouldNotHaveMadeOrOfAnotherShapeIsRefused()
    {
        var good = _plic.Save();
        var copy = new Plic(2, 95, (_, _) => { });
        Assert.Throws<ArgumentException>(() => copy.Restore(new Plic(3, 95, (_, _) => { }).Save()));
        Assert.Throws<ArgumentException>(() => copy.Restore(good with { Priority = [.. good.Priority.Select((p, i) => i == 4 ? 9u : p)] }));
        Assert.Throws<ArgumentException>(() => copy.Restore(good with { Threshold = [8, 0] }));
        Assert.Throws<ArgumentException>(() => copy.Restore(good with { Pending = [true, .. good.Pending[1..]] }));
        Assert.Throws<ArgumentException>(() => copy.Restore(good with { Enable = [1, 0, 0, 0, 0, 0] })); // source 0
        copy.Restore(good with { Enable = [0, 0, 0x8000_0000, 0, 0, 0] }); // source 95, bit 31 of word 2, exists
    }
}
