using System.Runtime.InteropServices;
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
                    var info = new RunstateInfo
                    {
                        State = !target.Started ? RunstateInfo.Offline
                            : target.Sched.State switch
                            {
                                VcpuRunState.Running => RunstateInfo.Running,
                                VcpuRunState.Runnable => RunstateInfo.Runnable,
                                VcpuRunState.Blocked => RunstateInfo.Blocked,
                                _ => RunstateInfo.Offline,
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

    /// <summary>struct vcpu_runstate_info (48 bytes): state, state_entry_time, time[4] in ns per state.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 48)]
    public struct RunstateInfo
    {
        public const int Running = 0;
        public const int Runnable = 1;
        public const int Blocked = 2;
        public const int Offline = 3;

        [FieldOffset(0)] public int State;
        [FieldOffset(8)] public ulong StateEntryTime;
        [FieldOffset(16)] public ulong RunningTime;
        [FieldOffset(24)] public ulong RunnableTime;
        [FieldOffset(32)] public ulong BlockedTime;
        [FieldOffset(40)] public ulong OfflineTime;
    }
}
