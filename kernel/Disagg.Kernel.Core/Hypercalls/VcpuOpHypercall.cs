using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// vcpu_op(cmd, vcpuid, arg). vCPUs come up and go down through SBI HSM here, as through PSCI on Xen/Arm,
/// so — as on Xen/Arm — initialise/up/down and the x86 timer commands are refused (-EINVAL). What a guest
/// may ask: whether a vCPU is up, and its runstate (how long it has been running, runnable, blocked, offline).
/// </summary>
public static class VcpuOpHypercall
{
    public const uint IsUp = 3;
    public const uint GetRunstateInfo = 4;

    public static long Handle(Hypervisor hypervisor, Domain domain, IGuestMemoryAccess memory, uint cmd, ulong vcpuId, ulong arg)
    {
        if (vcpuId >= (ulong)domain.Vcpus.Count)
        {
            return -(long)XenErrno.ENOENT;
        }

        var target = domain.Vcpus[(int)vcpuId];
        switch (cmd)
        {
            case IsUp:
                return target.Started ? 1 : 0;
            case GetRunstateInfo:
                {
                    var running = hypervisor.Scheduler.RunTimeNs(target.Sched);
                    var info = new VcpuRunstateInfo
                    {
                        State = !target.Started ? VcpuRunstateInfo.Offline
                            : target.Sched.State switch
                            {
                                VcpuRunState.Running => VcpuRunstateInfo.Running,
                                VcpuRunState.Runnable => VcpuRunstateInfo.Runnable,
                                VcpuRunState.Blocked => VcpuRunstateInfo.Blocked,
                                _ => VcpuRunstateInfo.Offline,
                            },
                        StateEntryTime = 0,
                        RunningTime = (ulong)running,
                    };
                    return memory.TryWrite(arg, info) ? 0 : -(long)XenErrno.EFAULT;
                }

            default:
                return -(long)XenErrno.EINVAL;
        }
    }
}
