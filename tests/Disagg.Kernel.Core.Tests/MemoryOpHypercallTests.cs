using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hypercalls;
using Disagg.Kernel.Core.Memory;

namespace Disagg.Kernel.Core.Tests;

public sealed class MemoryOpHypercallTests : IDisposable
{
    private const ulong Arg = 0x9000_0000;
    private const ulong List = Arg + 0x100;
    private const ulong Ram = PvLayout.RamFirstFrame;
    private readonly HostMemoryBudget _budget = new(64L << 20);
    private readonly P2m _p2m;
    private readonly ArrayGuestMemory _mem = new(Arg, 1 << 16);

    public MemoryOpHypercallTests()
    {
        _p2m = new P2m(3, new NativeRamBacking(1024), new NativeRamBacking(PvLayout.SpecialPages), 512, _budget);
    }

    public void Dispose() => _p2m.Dispose();

    private long Call(MemoryOp op) => MemoryOpHypercall.Handle(_p2m, 3, _mem, (uint)op, Arg);

    private void Reservation(params ulong[] frames) => Reservation(DomainIds.Self, 0, frames);

    private void Reservation(ushort dom, uint order, params ulong[] frames)
    {
        Assert.True(_mem.TryWrite(Arg, new MemoryReservation { ExtentStart = List, NrExtents = (ulong)frames.Length, ExtentOrder = order, DomId = dom }));
        for (var i = 0; i < frames.Length; i++)
        {
            Assert.True(_mem.TryWrite(List + (ulong)(i * 8), frames[i]));
        }
    }

    [Fact]
    public void TheBalloonGivesBackAndTakesAgainAndCountsWhatItDid()
    {
        Reservation(Ram + 100, Ram + 101, Ram + 102);
        Assert.Equal(3, Call(MemoryOp.DecreaseReservation));
        Assert.True(_mem.TryWrite(Arg, (ushort)DomainIds.Self));
        Assert.Equal(509, Call(MemoryOp.CurrentReservation));
        Reservation(Ram + 100, Ram + 101, Ram + 2000, Ram + 102);
        Assert.Equal(2, Call(MemoryOp.PopulatePhysmap)); // stops at the frame past maxmem
        Reservation(Ram + 102, Ram + 600);
        Assert.Equal(2, Call(MemoryOp.IncreaseReservation));
        Assert.Equal(513, _p2m.PopulatedPages);
        Assert.True(_mem.TryWrite(Arg, (ushort)DomainIds.Self));
        Assert.Equal(1024, Call(MemoryOp.MaximumReservation));
        Assert.Equal((long)(Ram + 1023), Call(MemoryOp.MaximumRamPage));
    }

    [Fact]
    public void OtherDomainsSuperpagesAndHugeListsAreRefused()
    {
        Reservation(5, 0, Ram);
        Assert.Equal(-(long)XenErrno.EPERM, Call(MemoryOp.DecreaseReservation));
        Reservation(DomainIds.Self, 9, Ram);
        Assert.Equal(-(long)XenErrno.EINVAL, Call(MemoryOp.DecreaseReservation));
        Assert.True(_mem.TryWrite(Arg, new MemoryReservation { ExtentStart = List, NrExtents = ulong.MaxValue, DomId = DomainIds.Self }));
        Assert.Equal(-(long)XenErrno.E2BIG, Call(MemoryOp.DecreaseReservation));
        Assert.True(_mem.TryWrite(Arg, new MemoryReservation { ExtentStart = 0x1000, NrExtents = 1, DomId = DomainIds.Self }));
        Assert.Equal(-(long)XenErrno.EFAULT, Call(MemoryOp.DecreaseReservation));
        Assert.True(_mem.TryWrite(Arg, (ushort)9));
        Assert.Equal(-(long)XenErrno.ESRCH, Call(MemoryOp.CurrentReservation));
        Assert.Equal(-(long)XenErrno.ENOSYS, Call((MemoryOp)77));
        Assert.Equal(512, _p2m.PopulatedPages);
    }
}
