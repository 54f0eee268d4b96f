using Disagg.Kernel.Core.Ipc.Events;

namespace Disagg.Kernel.Core.Ioreq;

/// <summary>
/// An HVM domain's event delivery: its ioreq ports are Xen's "Xen-consumer" channels — an event the device
/// model sends on one wakes the vCPU whose slot it serves instead of becoming pending in shared_info.
/// Every other port goes to the domain's ordinary delivery. Lock-free (the port table is replaced whole).
/// </summary>
public sealed class IoreqEventDelivery(IEventDelivery inner) : IEventDelivery
{
    private volatile IoreqServer? _server;

    internal void Consume(IoreqServer server) => _server = server;

    public void SetPending(int port, int vcpu)
    {
        if (_server is { } server && server.OnDeviceModelEvent(port))
        {
            return;
        }

        inner.SetPending(port, vcpu);
    }

    public void ClearPending(int port) => inner.ClearPending(port);

    public void Unmask(int port, int vcpu) => inner.Unmask(port, vcpu);

    public bool IsPending(int port) => inner.IsPending(port);

    public bool IsMasked(int port) => inner.IsMasked(port);
}
