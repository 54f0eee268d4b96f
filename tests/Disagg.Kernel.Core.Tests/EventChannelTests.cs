using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Ipc.Events;

namespace Disagg.Kernel.Core.Tests;

public sealed class EventChannelTests : IDisposable
{
    private readonly EventChannels _events = new();
    private readonly GuestEventPage _dom0Page = new();
    private readonly GuestEventPage _guestPage = new();
    private readonly GuestEventPage _otherPage = new();
    private readonly EventChannelTable _dom0;
    private readonly EventChannelTable _guest;
    private readonly EventChannelTable _other;

    public EventChannelTests()
    {
        _dom0 = _events.AddDomain(0, privileged: true, vcpus: 2, _dom0Page.Delivery);
        _guest = _events.AddDomain(1, privileged: false, vcpus: 2, _guestPage.Delivery);
        _other = _events.AddDomain(2, privileged: false, vcpus: 2, _otherPage.Delivery);
    }

    public void Dispose()
    {
        _dom0Page.Dispose();
        _guestPage.Dispose();
        _otherPage.Dispose();
    }

    private (int GuestPort, int Dom0Port) Connect()
    {
        var guestPort = _events.AllocUnbound(_guest, DomainIds.Self, 0);
        Assert.True(guestPort > 0);
        var dom0Port = _events.BindInterdomain(_dom0, 1, guestPort);
        Assert.True(dom0Port > 0);
        _dom0Page.Handle(0); // the bind's conservative notification
        return (guestPort, dom0Port);
    }

    [Fact]
    public void InterdomainSendSetsPendingAndRaisesOneUpcall()
    {
        var (guestPort, dom0Port) = Connect();
        Assert.Equal(0, _events.Send(_dom0, dom0Port));
        Assert.True(_guestPage.Pending(guestPort));
        Assert.Equal(1, _guestPage.Upcalls(0));
        Assert.Equal(1, _guestPage.Vcpu(0).UpcallPending);
        Assert.Equal(1UL << (guestPort >> 6), _guestPage.Vcpu(0).PendingSel);

        // Already pending: no second upcall until the guest handles it.
        Assert.Equal(0, _events.Send(_dom0, dom0Port));
        Assert.Equal(1, _guestPage.Upcalls(0));
        Assert.Equal([guestPort], _guestPage.Handle(0));

        Assert.Equal(0, _events.Send(_guest, guestPort));
        Assert.True(_dom0Page.Pending(dom0Port));
    }

    [Fact]
    public void MaskedPortIsDeliveredByUnmask()
    {
        var (guestPort, dom0Port) = Connect();
        _guestPage.Mask(guestPort);
        _events.Send(_dom0, dom0Port);
        Assert.True(_guestPage.Pending(guestPort));
        Assert.Equal(0, _guestPage.Upcalls(0));
        Assert.Equal(0, _events.Unmask(_guest, guestPort));
        Assert.Equal(1, _guestPage.Upcalls(0));
        Assert.Equal([guestPort], _guestPage.Handle(0));
    }

    [Fact]
    public void EventsGoToTheBoundVcpu()
    {
        var (guestPort, dom0Port) = Connect();
        Assert.Equal(0, _events.BindVcpu(_guest, guestPort, 1));
        _events.Send(_dom0, dom0Port);
        Assert.Equal((0, 1), (_guestPage.Upcalls(0), _guestPage.Upcalls(1)));
        Assert.Equal(-(int)XenErrno.ENOENT, _events.BindVcpu(_guest, guestPort, 7));
    }

    [Fact]
    public void OnlyTheDomainOfferedAPortMayBindIt()
    {
        var guestPort = _events.AllocUnbound(_guest, DomainIds.Self, 0);
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindInterdomain(_other, 1, guestPort));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindInterdomain(_dom0, 1, guestPort + 1));
        Assert.Equal(-(int)XenErrno.ESRCH, _events.BindInterdomain(_dom0, 99, guestPort));
        Assert.True(_events.BindInterdomain(_dom0, 1, guestPort) > 0);
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindInterdomain(_dom0, 1, guestPort)); // no longer unbound
    }

    [Fact]
    public void OnlyThePrivilegedDomainAllocatesForOthers()
    {
        Assert.Equal(-(int)XenErrno.EPERM, _events.AllocUnbound(_guest, 2, 1));
        var port = _events.AllocUnbound(_dom0, 1, 2); // e.g. the toolstack giving a guest a channel to a backend
        Assert.True(port > 0);
        Assert.True(_events.BindInterdomain(_other, 1, port) > 0);
        Assert.Equal(-(int)XenErrno.ESRCH, _events.AllocUnbound(_dom0, 42, 0));
    }

    [Fact]
    public void ClosingOneEndLeavesThePeerUnboundAndDropsItsSends()
    {
        var (guestPort, dom0Port) = Connect();
        Assert.Equal(0, _events.Close(_guest, guestPort));
        Assert.Equal(0, _events.Status(_dom0, 0, dom0Port, out var s));
        Assert.Equal(EventChannelState.Unbound, s.State);
        Assert.Equal(1, s.RemoteDomainId);
        Assert.Equal(0, _events.Send(_dom0, dom0Port)); // silently dropped, as Xen
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Send(_guest, guestPort));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Close(_guest, guestPort));
        // The guest can reconnect to the waiting end.
        Assert.True(_events.BindInterdomain(_guest, 0, dom0Port) > 0);
    }

    [Fact]
    public void VirqsBindOncePerDomainAndGlobalOnesOnVcpu0()
    {
        var timer = _events.BindVirq(_guest, (int)Virq.Timer, 1);
        Assert.True(timer > 0);
        Assert.Equal(-(int)XenErrno.EEXIST, _events.BindVirq(_guest, (int)Virq.Timer, 0));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindVirq(_guest, (int)Virq.DomExc, 1));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindVirq(_guest, 24, 0));
        Assert.Equal(-(int)XenErrno.ENOENT, _events.BindVirq(_guest, (int)Virq.Console, 5));
        Assert.True(_events.RaiseVirq(_guest, Virq.Timer));
        Assert.Equal(1, _guestPage.Upcalls(1));
        Assert.False(_events.RaiseVirq(_guest, Virq.Console));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Send(_guest, timer)); // VIRQ ports cannot be sent on
        Assert.Equal(0, _events.Close(_guest, timer));
        Assert.True(_events.BindVirq(_guest, (int)Virq.Timer, 0) > 0);
    }

    [Fact]
    public void IpiNotifiesTheCallersOwnVcpu()
    {
        var port = _events.BindIpi(_guest, 1);
        Assert.Equal(0, _events.Send(_guest, port));
        Assert.Equal(1, _guestPage.Upcalls(1));
        Assert.Equal(-(int)XenErrno.ENOENT, _events.BindIpi(_guest, 2));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(4096)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void WildPortsAreEinvalEverywhere(int port)
    {
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Send(_guest, port));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Close(_guest, port));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.Unmask(_guest, port));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindVcpu(_guest, port, 0));
        Assert.Equal(-(int)XenErrno.EINVAL, _events.BindInterdomain(_guest, 0, port));
        Assert.True(_events.Status(_guest, DomainIds.Self, port, out _) is 0 or -(int)XenErrno.EINVAL);
    }

    [Fact]
    public void StatusOfAnotherDomainNeedsPrivilege()
    {
        var (guestPort, _) = Connect();
        Assert.Equal(-(int)XenErrno.EPERM, _events.Status(_other, 1, guestPort, out _));
        Assert.Equal(0, _events.Status(_dom0, 1, guestPort, out var s));
        Assert.Equal(EventChannelState.Interdomain, s.State);
        Assert.Equal(0, s.RemoteDomainId);
    }

    [Fact]
    public void PortSpaceExhaustionIsEnospc()
    {
        using var page = new GuestEventPage();
        var small = _events.AddDomain(9, false, 1, page.Delivery, maxPorts: 4);
        Assert.Equal([1, 2, 3], Enumerable.Range(0, 3).Select(_ => _events.BindIpi(small, 0)));
        Assert.Equal(-(int)XenErrno.ENOSPC, _events.BindIpi(small, 0));
        Assert.Equal(-(int)XenErrno.ENOSPC, _events.AllocUnbound(small, DomainIds.Self, 0));
    }

    [Fact]
    public void RemovingADomainUnbindsItsPeers()
    {
        var (_, dom0Port) = Connect();
        _events.RemoveDomain(_guest);
        Assert.Equal(0, _events.Status(_dom0, 0, dom0Port, out var s));
        Assert.Equal(EventChannelState.Unbound, s.State);
        Assert.Equal(0, _events.Send(_dom0, dom0Port));
        Assert.Equal(-(int)XenErrno.ESRCH, _events.BindInterdomain(_dom0, 1, 1));
    }

    [Fact]
    public void ConcurrentSendersAndAHandlingGuestLoseNoWakeup()
    {
        // Four senders race a guest that keeps handling upcalls. A lost wake-up would leave a port
        // pending with no selector bit or no upcall flag, so the guest would never look at it.
        var conns = Enumerable.Range(0, 4).Select(_ => Connect()).ToArray();
        var senders = conns.Select(c => Task.Run(() =>
        {
            for (var n = 0; n < 200_000; n++)
            {
                _events.Send(_dom0, c.Dom0Port);
            }
        })).ToArray();
        var rounds = 0;
        while (!Task.WhenAll(senders).IsCompleted)
        {
            _guestPage.Handle(0);
            rounds++;
        }

        Assert.True(rounds > 1);
        foreach (var (guestPort, _) in conns)
        {
            if (_guestPage.Pending(guestPort))
            {
                Assert.Equal(1, _guestPage.Vcpu(0).UpcallPending);
                Assert.NotEqual(0UL, _guestPage.Vcpu(0).PendingSel & (1UL << (guestPort >> 6)));
            }
        }

        // And one more send after quiescence is always seen.
        _guestPage.Handle(0);
        _events.Send(_dom0, conns[0].Dom0Port);
        Assert.Equal([conns[0].GuestPort], _guestPage.Handle(0));
    }
}
