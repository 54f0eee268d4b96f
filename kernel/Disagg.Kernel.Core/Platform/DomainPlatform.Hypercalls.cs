using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Core.Hypercalls;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Platform;

/// <summary>The XEN SBI extension: a6 names the hypercall, a0..a4 are its arguments, a0 returns 0, a count, or -errno.</summary>
public sealed partial class DomainPlatform
{
    private VcpuAction Hypercall(Domain domain, Vcpu vcpu)
    {
        var hart = vcpu.Hart;
        var number = (uint)hart.GetX(16);
        var a0 = Arg(hart, 0);
        var a1 = Arg(hart, 1);
        var a2 = Arg(hart, 2);
        var action = VcpuAction.Continue;
        long result;
        switch ((HypercallNumber)number)
        {
            case HypercallNumber.MemoryOp:
                result = MemoryOpHypercall.Handle(domain.Memory, domain.Id, vcpu.Memory, (uint)a0, a1);
                break;
            case HypercallNumber.XenVersion:
                result = XenVersionHypercall.Handle(vcpu.Memory, (uint)a0, a1, hart.Isa == IsaWidth.Rv64);
                break;
            case HypercallNumber.ConsoleIo:
                result = ConsoleIoHypercall.Handle(hypervisor.Log, domain.Id, vcpu.Memory, (uint)a0, a1, a2);
                break;
            case HypercallNumber.GrantTableOp:
                result = GrantTableHypercall.Handle(hypervisor.GrantCopier, domain.GrantView, domain.GrantFrames, vcpu.Memory, (uint)a0, a1, (uint)a2);
                break;
            case HypercallNumber.EventChannelOp:
                result = EventChannelHypercall.Handle(hypervisor.EventChannels, domain.Events, vcpu.Memory, (uint)a0, a1);
                break;
            case HypercallNumber.VcpuOp:
                result = VcpuOpHypercall.Handle(hypervisor, domain, vcpu.Memory, (uint)a0, a1, a2);
                break;
            case HypercallNumber.SchedOp:
                result = SchedOpHypercall.Handle(hypervisor, domain, vcpu, (uint)a0, a1, out action);
                break;
            default:
                result = -(long)XenErrno.ENOSYS;
                break;
        }

        // A vCPU that stopped (shutdown) does not need its result; one that blocked gets it when it runs again.
        hart.CompleteSbiCall(result, 0);
        return action;
    }
}
