using Disagg.Abi.Events;
using Disagg.Kernel.Core.Ipc.Events;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// event_channel_op(cmd, arg): reads the sub-operation's struct from the guest, performs it on
/// <see cref="EventChannels"/>, writes the OUT fields back. A bad pointer is -EFAULT, an
/// unknown command -ENOSYS; nothing a guest passes can throw.
/// </summary>
public static class EventChannelHypercall
{
    public static long Handle(EventChannels events, EventChannelTable caller, IGuestMemoryAccess memory, uint cmd, ulong arg)
    {
        switch ((EventChannelOp)cmd)
        {
            case EventChannelOp.AllocUnbound:
                {
                    if (!memory.TryRead(arg, out EvtchnAllocUnbound op))
                    {
                        return Errno.Efault;
                    }

                    var port = events.AllocUnbound(caller, op.Dom, op.RemoteDom);
                    op.Port = (uint)Math.Max(port, 0);
                    return WriteBack(memory, arg, op, port);
                }

            case EventChannelOp.BindInterdomain:
                {
                    if (!memory.TryRead(arg, out EvtchnBindInterdomain op))
                    {
                        return Errno.Efault;
                    }

                    var port = events.BindInterdomain(caller, op.RemoteDom, ClampPort(op.RemotePort));
                    op.LocalPort = (uint)Math.Max(port, 0);
                    return WriteBack(memory, arg, op, port);
                }

            case EventChannelOp.BindVirq:
                {
                    if (!memory.TryRead(arg, out EvtchnBindVirq op))
                    {
                        return Errno.Efault;
                    }

                    var port = events.BindVirq(caller, ClampPort(op.Virq), ClampPort(op.Vcpu));
                    op.Port = (uint)Math.Max(port, 0);
                    return WriteBack(memory, arg, op, port);
                }

            case EventChannelOp.BindIpi:
                {
                    if (!memory.TryRead(arg, out EvtchnBindIpi op))
                    {
                        return Errno.Efault;
                    }

                    var port = events.BindIpi(caller, ClampPort(op.Vcpu));
                    op.Port = (uint)Math.Max(port, 0);
                    return WriteBack(memory, arg, op, port);
                }

            case EventChannelOp.BindVcpu:
                {
                    // struct evtchn_bind_vcpu { port u32; vcpu u32 }
                    if (!memory.TryRead(arg, out ulong both))
                    {
                        return Errno.Efault;
                    }

                    return events.BindVcpu(caller, ClampPort((uint)both), ClampPort((uint)(both >> 32)));
                }

            case EventChannelOp.Close:
                return memory.TryRead(arg, out EvtchnPort close) ? events.Close(caller, ClampPort(close.Port)) : Errno.Efault;

            case EventChannelOp.Send:
                return memory.TryRead(arg, out EvtchnPort send) ? events.Send(caller, ClampPort(send.Port)) : Errno.Efault;

            case EventChannelOp.Unmask:
                return memory.TryRead(arg, out EvtchnPort unmask) ? events.Unmask(caller, ClampPort(unmask.Port)) : Errno.Efault;

            case EventChannelOp.Status:
                {
                    if (!memory.TryRead(arg, out EvtchnStatus op))
                    {
                        return Errno.Efault;
                    }

                    var rc = events.Status(caller, op.Dom, ClampPort(op.Port), out var s);
                    if (rc != 0)
                    {
                        return rc;
                    }

                    op.Status = (uint)s.State;
                    op.Vcpu = (uint)s.Vcpu;
                    op.RemotePort = 0;
                    op.VirqOrPirq = 0;
                    switch (s.State)
                    {
                        case EventChannelState.Unbound:
                            op.RemoteDom = (ushort)s.RemoteDomainId;
                            break;
                        case EventChannelState.Interdomain:
                            op.RemoteDom = (ushort)s.RemoteDomainId;
                            op.RemotePort = (uint)s.RemotePort;
                            break;
                        case EventChannelState.Virq:
                            op.VirqOrPirq = (uint)s.Virq;
                            break;
                    }

                    return memory.TryWrite(arg, op) ? 0 : Errno.Efault;
                }

            default:
                return Errno.Enosys;
        }
    }

    // Guest u32s beyond int range are invalid ports/vCPUs anyway: map them to -1 so checks reject them.
    private static int ClampPort(uint value) => value > int.MaxValue ? -1 : (int)value;

    private static long WriteBack<T>(IGuestMemoryAccess memory, ulong arg, in T op, int result)
        where T : unmanaged
    {
        if (result < 0)
        {
            return result;
        }

        return memory.TryWrite(arg, op) ? 0 : Errno.Efault;
    }
}
