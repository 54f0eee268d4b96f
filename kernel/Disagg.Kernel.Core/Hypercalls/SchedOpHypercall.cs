using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// sched_op: yield, block until an event, shut down (with a reason), record a shutdown code,
/// shut another domain down (privileged only), and poll a set of ports with a timeout.
/// </summary>
public static class SchedOpHypercall
{
    /// <summary>Ports one poll may name.</summary>
    public const uint MaxPollPorts = 128;

    public static long Handle(Hypervisor hypervisor, Domain domain, Vcpu vcpu, uint cmd, ulong arg, out VcpuAction action)
    {
        action = VcpuAction.Continue;
        switch ((SchedOp)cmd)
        {
            case SchedOp.Yield:
                action = VcpuAction.Yield;
                return 0;
            case SchedOp.Block:
                // Xen: blocks until an event is pending, even with the upcall masked.
                action = vcpu.BlockUntilInterrupt(orEvent: true) ? VcpuAction.Deschedule : VcpuAction.Continue;
                return 0;
            case SchedOp.Shutdown:
                {
                    if (!vcpu.Memory.TryRead(arg, out uint reason))
                    {
                        return -(long)XenErrno.EFAULT;
                    }

                    if (reason > (uint)ShutdownReason.SoftReset)
                    {
                        return -(long)XenErrno.EINVAL;
                    }

                    domain.Shutdown(domain.PendingShutdownCode ?? (ShutdownReason)reason);
                    action = VcpuAction.Deschedule;
                    return 0;
                }

            case SchedOp.ShutdownCode:
                {
                    if (!vcpu.Memory.TryRead(arg, out uint reason))
                    {
                        return -(long)XenErrno.EFAULT;
                    }

                    if (reason > (uint)ShutdownReason.SoftReset)
                    {
                        return -(long)XenErrno.EINVAL;
                    }

                    domain.PendingShutdownCode = (ShutdownReason)reason;
                    return 0;
                }

            case SchedOp.RemoteShutdown:
                // Only the control domain may shut others down; it asks over its control socket, not by hypercall.
                return -(long)XenErrno.EPERM;
            case SchedOp.Poll:
                return Poll(domain, vcpu, arg, out action);
            default:
                return -(long)XenErrno.ENOSYS;
        }
    }

    private static long Poll(Domain domain, Vcpu vcpu, ulong arg, out VcpuAction action)
    {
        action = VcpuAction.Continue;
        if (!vcpu.Memory.TryRead(arg, out SchedPoll poll))
        {
            return -(long)XenErrno.EFAULT;
        }

        if (poll.NrPorts > MaxPollPorts)
        {
            return -(long)XenErrno.EINVAL;
        }

        Span<uint> ports = stackalloc uint[(int)poll.NrPorts];
        for (var i = 0; i < ports.Length; i++)
        {
            if (!vcpu.Memory.TryRead(poll.Ports + ((ulong)i * 4), out ports[i]))
            {
                return -(long)XenErrno.EFAULT;
            }

            if (ports[i] >= (uint)domain.Events.PortCount)
            {
                return -(long)XenErrno.EINVAL;
            }
        }

        if (AnyPending(domain, ports))
        {
            return 0;
        }

        // Timeout is absolute Xen system time in ns; the time CSR counts 100 ns ticks from boot.
        vcpu.PollDeadline = poll.Timeout == 0 ? null : poll.Timeout / 100;
        if (vcpu.PollDeadline is { } deadline && deadline <= vcpu.Hart.Time)
        {
            vcpu.PollDeadline = null;
            return 0;
        }

        vcpu.Polling = true;
        var polled = ports.ToArray(); // off the hot path: a poll that really sleeps
        var blocked = vcpu.BlockUntilInterrupt(orEvent: true, orCondition: () => AnyPending(domain, polled));
        action = blocked ? VcpuAction.Deschedule : VcpuAction.Continue;
        return 0;
    }

    private static bool AnyPending(Domain domain, ReadOnlySpan<uint> ports)
    {
        foreach (var p in ports)
        {
            if (domain.Events.Delivery.IsPending((int)p))
            {
                return true;
            }
        }

        return false;
    }
}
