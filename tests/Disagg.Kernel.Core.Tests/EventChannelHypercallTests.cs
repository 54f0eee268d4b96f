using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Hypercalls;
using Disagg.Kernel.Core.Ipc.Events;

namespace Disagg.Kernel.Core.Tests;

public sealed class EventChannelHypercallTests : IDisposable
{
    private const ulong Ram = 0x8000_0000;
    private const ulong Arg = Ram + 0x100;
    private readonly EventChannels _events = new();
    private readonly GuestEventPage _guestPage = new();
    private readonly GuestEventPage _dom0Page = new();
    private readonly EventChannelTable _guest;
    private readonly EventChannelTable _dom0;
    private readonly ArrayGuestMemory _mem = new(Ram, 8192, holeStart: Ram + 4096, holeEnd: Ram + 8192);

    public EventChannelHypercallTests()
    {
        _dom0 = _events.AddDomain(0, true, 1, _dom0Page.Delivery);
        _guest = _events.AddDomain(3, false, 2, _guestPage.Delivery);
    }

    public void Dispose()
    {
        _guestPage.Dispose();
        _dom0Page.Dispose();
    }

    private long Call(EventChannelOp op, ulong arg = Arg) => EventChannelHypercall.Handle(_events, _guest, _mem, (uint)op, arg);

    [Fact]
    public void AllocUnboundWritesThePortBack()
    {
        _mem.TryWrite(Arg, new EvtchnAllocUnbound { Dom = DomainIds.Self, RemoteDom = 0 });
        Assert.Equal(0, Call(EventChannelOp.AllocUnbound));
        Assert.True(_mem.TryRead(Arg, out EvtchnAllocUnbound op));
        Assert.True(op.Port > 0);
        Assert.Equal(0, EventChannelHypercall.Handle(_events, _dom0, _mem, (uint)EventChannelOp.Status,
            Write(new EvtchnStatus { Dom = 3, Port = op.Port })));
        Assert.True(_mem.TryRead(Arg, out EvtchnStatus st));
        Assert.Equal((uint)EventChannelState.Unbound, st.Status);
        Assert.Equal(0, st.RemoteDom);
    }

    [Fact]
    public void BindVirqSendAndCloseThroughTheGuestAbi()
    {
        Assert.Equal(0, Call(EventChannelOp.BindVirq, Write(new EvtchnBindVirq { Virq = (uint)Virq.Timer, Vcpu = 1 })));
        Assert.True(_mem.TryRead(Arg, out EvtchnBindVirq virq));
        Assert.True(virq.Port > 0);
        Assert.Equal(0, Call(EventChannelOp.BindIpi, Write(new EvtchnBindIpi { Vcpu = 0 })));
        Assert.True(_mem.TryRead(Arg, out EvtchnBindIpi ipi));
        Assert.Equal(0, Call(EventChannelOp.Send, Write(new EvtchnPort { Port = ipi.Port })));
        Assert.Equal(1, _guestPage.Upcalls(0));
        Assert.Equal(0, Call(EventChannelOp.Close, Write(new EvtchnPort { Port = ipi.Port })));
        Assert.Equal(-(long)XenErrno.EINVAL, Call(EventChannelOp.Send, Write(new EvtchnPort { Port = ipi.Port })));
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(Ram + 4096)]
    [InlineData(Ram + 4094)]
    [InlineData(ulong.MaxValue)]
    [InlineData(ulong.MaxValue - 3)]
    public void BadPointersAreEfaultForEveryCommand(ulong arg)
    {
        foreach (var op in Enum.GetValues<EventChannelOp>().Where(o => o is not (EventChannelOp.BindPirq or EventChannelOp.Reset)))
        {
            Assert.Equal(-(long)XenErrno.EFAULT, Call(op, arg));
        }
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(10u)]
    [InlineData(11u)]
    [InlineData(uint.MaxValue)]
    public void UnknownOrUnsupportedCommandsAreEnosys(uint cmd)
    {
        Assert.Equal(-(long)XenErrno.ENOSYS, EventChannelHypercall.Handle(_events, _guest, _mem, cmd, Arg));
    }

    [Fact]
    public void WildValuesInsideStructsGetErrnosNotExceptions()
    {
        Assert.Equal(-(long)XenErrno.EINVAL, Call(EventChannelOp.Send, Write(new EvtchnPort { Port = uint.MaxValue })));
        Assert.Equal(-(long)XenErrno.EINVAL, Call(EventChannelOp.BindVirq, Write(new EvtchnBindVirq { Virq = uint.MaxValue, Vcpu = 0 })));
        Assert.Equal(-(long)XenErrno.ENOENT, Call(EventChannelOp.BindIpi, Write(new EvtchnBindIpi { Vcpu = 0x8000_0000 })));
        Assert.Equal(-(long)XenErrno.ESRCH, Call(EventChannelOp.BindInterdomain, Write(new EvtchnBindInterdomain { RemoteDom = 0x7FF5, RemotePort = 1 })));
        Assert.Equal(-(long)XenErrno.EPERM, Call(EventChannelOp.AllocUnbound, Write(new EvtchnAllocUnbound { Dom = 0, RemoteDom = 3 })));
        Assert.Equal(-(long)XenErrno.EPERM, Call(EventChannelOp.Status, Write(new EvtchnStatus { Dom = 0, Port = 1 })));
        var rng = new Random(11);
        var junk = new byte[64];
        for (var i = 0; i < 20_000; i++)
        {
            rng.NextBytes(junk);
            _mem.TryCopyToGuest(Arg, junk);
            var rc = Call((EventChannelOp)rng.Next(0, 12));
            Assert.True(rc <= 0 && rc >= -38, $"unexpected result {rc}");
        }
    }

    private ulong Write<T>(T value)
        where T : unmanaged
    {
        Assert.True(_mem.TryWrite(Arg, value));
        return Arg;
    }
}
