using Disagg.Abi.Events;

namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>Rebuilding a restored domain's ports at the numbers the guest knows them by.</summary>
public sealed partial class EventChannels
{
    /// <summary>
    /// Binds <paramref name="port"/> of a restored domain's table as it was saved. An interdomain port comes
    /// back unbound, offered to the same peer: the peer's end belongs to the peer, which rebinds (a PV frontend
    /// reconnects after resume). False if the port is taken or out of range, or the binding is not one a
    /// domain can hold (a VIRQ bound twice, a vCPU it does not have).
    /// </summary>
    internal bool RestorePort(EventChannelTable table, int port, EventChannelState state, int vcpu, int remoteDomain, int virq)
    {
        if (port <= 0 || port >= table.PortCount || (uint)vcpu >= (uint)table.Vcpus)
        {
            return false;
        }

        lock (_lock)
        {
            if (table.Get(port) is not null)
            {
                return false;
            }

            switch (state)
            {
                case EventChannelState.Unbound:
                case EventChannelState.Interdomain:
                    table.Set(port, new EventPort(EventChannelState.Unbound, vcpu) { RemoteDomainId = remoteDomain });
                    return true;
                case EventChannelState.Ipi:
                    table.Set(port, new EventPort(EventChannelState.Ipi, vcpu));
                    return true;
                case EventChannelState.Virq when (uint)virq < (uint)Virq.Count && table.VirqPorts[virq] == 0:
                    table.Set(port, new EventPort(EventChannelState.Virq, vcpu) { Virq = virq });
                    table.VirqPorts[virq] = port;
                    return true;
                default:
                    return false;
            }
        }
    }
}
