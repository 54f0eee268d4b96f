using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// The event channel operations of event_channel_op (spec §2), between any two domains —
/// guests and service processes alike. Binding and closing take one lock; Send takes none.
/// Every argument comes from an untrusted caller: results are a port (&gt;= 0) or a negative
/// Xen errno, never an exception.
/// </summary>
public sealed partial class EventChannels
{
    private readonly object _lock = new();
    private readonly Dictionary<int, EventChannelTable> _domains = [];

    /// <summary>Gives a domain its port table. Ports live until <see cref="RemoveDomain"/>.</summary>
    public EventChannelTable AddDomain(int domainId, bool privileged, int vcpus, IEventDelivery delivery, int maxPorts = EventChannelTable.MaxPorts)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPorts, EventChannelTable.MaxPorts);
        var table = new EventChannelTable(domainId, privileged, vcpus, delivery, maxPorts);
        lock (_lock)
        {
            if (!_domains.TryAdd(domainId, table))
            {
                throw new InvalidOperationException($"domain {domainId} already has an event channel table");
            }
        }

        return table;
    }

    /// <summary>Closes every port of a dying domain; its interdomain peers become unbound, as in Xen.</summary>
    public void RemoveDomain(EventChannelTable table)
    {
        lock (_lock)
        {
            foreach (var port in table.BoundPorts().ToArray())
            {
                CloseLocked(table, port);
            }

            table.Closed = true;
            _domains.Remove(table.DomainId);
        }
    }

    /// <summary>EVTCHNOP_alloc_unbound: a port in <paramref name="domainId"/> that <paramref name="remoteDomainId"/> may bind.</summary>
    public int AllocUnbound(EventChannelTable caller, int domainId, int remoteDomainId)
    {
        lock (_lock)
        {
            domainId = Resolve(caller, domainId);
            remoteDomainId = Resolve(caller, remoteDomainId);
            if (domainId != caller.DomainId && !caller.Privileged)
            {
                return -(int)XenErrno.EPERM;
            }

            if (!_domains.TryGetValue(domainId, out var owner))
            {
                return -(int)XenErrno.ESRCH;
            }

            var port = owner.FindFree();
            if (port < 0)
            {
                return -(int)XenErrno.ENOSPC;
            }

            owner.Set(port, new EventPort(EventChannelState.Unbound, 0) { RemoteDomainId = remoteDomainId });
            return port;
        }
    }

    /// <summary>EVTCHNOP_bind_interdomain: connects a new local port to the remote domain's unbound port offered to the caller.</summary>
    public int BindInterdomain(EventChannelTable caller, int remoteDomainId, int remotePort)
    {
        lock (_lock)
        {
            remoteDomainId = Resolve(caller, remoteDomainId);
            if (!_domains.TryGetValue(remoteDomainId, out var remote))
            {
                return -(int)XenErrno.ESRCH;
            }

            var r = remote.Get(remotePort);
            // Only a port offered to this very domain may be bound: a guest cannot take another's channel.
            if (r is null || r.State != EventChannelState.Unbound || r.RemoteDomainId != caller.DomainId)
            {
                return -(int)XenErrno.EINVAL;
            }

            var local = caller.FindFree();
            if (local < 0)
            {
                return -(int)XenErrno.ENOSPC;
            }

            caller.Set(local, new EventPort(EventChannelState.Interdomain, 0) { RemoteDomainId = remoteDomainId, Remote = remote, RemotePort = remotePort });
            remote.Set(remotePort, new EventPort(EventChannelState.Interdomain, r.Vcpu) { RemoteDomainId = caller.DomainId, Remote = caller, RemotePort = local });
            // Sends to the port while it was unbound were dropped: mark the new end pending so the
            // binder looks at the ring once (Xen does the same, conservatively).
            caller.Delivery.SetPending(local, 0);
            return local;
        }
    }

    /// <summary>EVTCHNOP_bind_virq. Global VIRQs (everything but TIMER and DEBUG) go to vCPU 0 only.</summary>
    public int BindVirq(EventChannelTable caller, int virq, int vcpu)
    {
        if ((uint)virq >= (uint)Virq.Count)
        {
            return -(int)XenErrno.EINVAL;
        }

        if ((uint)vcpu >= (uint)caller.Vcpus)
        {
            return -(int)XenErrno.ENOENT;
        }

        if (virq is not ((int)Virq.Timer or (int)Virq.Debug) && vcpu != 0)
        {
            return -(int)XenErrno.EINVAL;
        }

        lock (_lock)
        {
            if (caller.VirqPorts[virq] != 0)
            {
                return -(int)XenErrno.EEXIST;
            }

            var port = caller.FindFree();
            if (port < 0)
            {
                return -(int)XenErrno.ENOSPC;
            }

            caller.Set(port, new EventPort(EventChannelState.Virq, vcpu) { Virq = virq });
            caller.VirqPorts[virq] = port;
            return port;
        }
    }

    /// <summary>EVTCHNOP_bind_ipi: a port whose sends notify the caller's own vCPU.</summary>
    public int BindIpi(EventChannelTable caller, int vcpu)
    {
        if ((uint)vcpu >= (uint)caller.Vcpus)
        {
            return -(int)XenErrno.ENOENT;
        }

        lock (_lock)
        {
            var port = caller.FindFree();
            if (port < 0)
            {
                return -(int)XenErrno.ENOSPC;
            }

            caller.Set(port, new EventPort(EventChannelState.Ipi, vcpu));
            return port;
        }
    }

    /// <summary>EVTCHNOP_bind_vcpu: later events on the port go to another vCPU.</summary>
    public int BindVcpu(EventChannelTable caller, int port, int vcpu)
    {
        if ((uint)vcpu >= (uint)caller.Vcpus)
        {
            return -(int)XenErrno.ENOENT;
        }

        lock (_lock)
        {
            var p = caller.Get(port);
            if (p is null || p.State == EventChannelState.Ipi)
            {
                return -(int)XenErrno.EINVAL;
            }

            caller.Set(port, p with { Vcpu = vcpu });
            return 0;
        }
    }

    /// <summary>EVTCHNOP_close.</summary>
    public int Close(EventChannelTable caller, int port)
    {
        lock (_lock)
        {
            return caller.Get(port) is null ? -(int)XenErrno.EINVAL : CloseLocked(caller, port);
        }
    }

    /// <summary>
    /// EVTCHNOP_send. Lock-free: one volatile read of the port, then atomic bit operations in the
    /// receiver's bitmaps. Sending on an unbound port is silently dropped, as in Xen.
    /// </summary>
    public int Send(EventChannelTable caller, int port)
    {
        var p = caller.Get(port);
        if (p is null)
        {
            return -(int)XenErrno.EINVAL;
        }

        switch (p.State)
        {
            case EventChannelState.Interdomain:
                var remote = p.Remote!;
                var rp = remote.Get(p.RemotePort);
                if (rp is not null && !remote.Closed)
                {
                    remote.Delivery.SetPending(p.RemotePort, rp.Vcpu);
                }

                return 0;
            case EventChannelState.Ipi:
                caller.Delivery.SetPending(port, p.Vcpu);
                return 0;
            case EventChannelState.Unbound:
                return 0;
            default:
                return -(int)XenErrno.EINVAL;
        }
    }

    /// <summary>Raises a VIRQ in a domain if it bound one (kernel-internal: timer, console, DOM_EXC).</summary>
    public bool RaiseVirq(EventChannelTable table, Virq virq)
    {
        var port = Volatile.Read(ref table.VirqPorts[(int)virq]);
        if (port == 0 || table.Get(port) is not { State: EventChannelState.Virq } p)
        {
            return false;
        }

        table.Delivery.SetPending(port, p.Vcpu);
        return true;
    }

    /// <summary>EVTCHNOP_unmask.</summary>
    public int Unmask(EventChannelTable caller, int port)
    {
        var p = caller.Get(port);
        if (p is null)
        {
            return -(int)XenErrno.EINVAL;
        }

        caller.Delivery.Unmask(port, p.Vcpu);
        return 0;
    }

    /// <summary>EVTCHNOP_status: any domain for the privileged caller, its own otherwise.</summary>
    public int Status(EventChannelTable caller, int domainId, int port, out EventChannelStatus status)
    {
        status = default;
        lock (_lock)
        {
            domainId = Resolve(caller, domainId);
            if (domainId != caller.DomainId && !caller.Privileged)
            {
                return -(int)XenErrno.EPERM;
            }

            if (!_domains.TryGetValue(domainId, out var table))
            {
                return -(int)XenErrno.ESRCH;
            }

            if ((uint)port >= (uint)table.PortCount)
            {
                return -(int)XenErrno.EINVAL;
            }

            var p = table.Get(port);
            status = p is null
                ? new EventChannelStatus(EventChannelState.Closed, 0, 0, 0, -1)
                : new EventChannelStatus(p.State, p.Vcpu, p.RemoteDomainId, p.RemotePort, p.Virq);
            return 0;
        }
    }

    private static int Resolve(EventChannelTable caller, int domainId) => domainId == DomainIds.Self ? caller.DomainId : domainId;

    private int CloseLocked(EventChannelTable table, int port)
    {
        var p = table.Get(port)!;
        if (p.State == EventChannelState.Virq && table.VirqPorts[p.Virq] == port)
        {
            table.VirqPorts[p.Virq] = 0;
        }

        if (p.State == EventChannelState.Interdomain && p.Remote is { } remote && remote.Get(p.RemotePort) is { State: EventChannelState.Interdomain } rp)
        {
            // The peer's end stays allocated, waiting for this domain to bind again (Xen's ECS_UNBOUND).
            remote.Set(p.RemotePort, new EventPort(EventChannelState.Unbound, rp.Vcpu) { RemoteDomainId = table.DomainId });
        }

        table.Set(port, null);
        table.Delivery.ClearPending(port);
        return 0;
    }
}
