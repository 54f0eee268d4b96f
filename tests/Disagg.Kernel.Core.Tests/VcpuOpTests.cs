using Disagg.TestSupport;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Hypercalls;

namespace Disagg.Kernel.Core.Tests;

/// <summary>vcpu_op as on Xen/Arm: is_up and runstate answered, bring-up left to SBI HSM, every argument checked.</summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class VcpuOpTests : IDisposable
{
    private const ulong Ram = 0x8000_0000;
    private readonly HypervisorFixture _hv = new();
    private readonly ArrayGuestMemory _mem = new(Ram, 8192, holeStart: Ram + 4096, holeEnd: Ram + 8192);

    public void Dispose() => _hv.Dispose();

    [Fact]
    public void IsUpRunstateAndRefusals()
    {
        var d = _hv.Boot(new GuestProgram().Emit(Cpu.Tests.Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1)).JumpBack(1), vcpus: 2);
        Assert.True(Eventually.Holds(() => d.CpuTimeNs > 5_000_000));
        var hv = _hv.Hypervisor;
        Assert.Equal(1, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.IsUp, 0, 0));
        Assert.Equal(0, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.IsUp, 1, 0));  // secondary harts start stopped
        Assert.Equal(-(long)XenErrno.ENOENT, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.IsUp, 2, 0));
        Assert.Equal(-(long)XenErrno.ENOENT, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.IsUp, ulong.MaxValue, 0));

        Assert.Equal(0, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.GetRunstateInfo, 0, Ram));
        Assert.True(_mem.TryRead(Ram, out VcpuRunstateInfo info));
        Assert.True(info.State is VcpuRunstateInfo.Running or VcpuRunstateInfo.Runnable);
        Assert.True(info.RunningTime > 0);
        Assert.Equal(0, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.GetRunstateInfo, 1, Ram));
        Assert.True(_mem.TryRead(Ram, out info));
        Assert.Equal(VcpuRunstateInfo.Offline, info.State);
        // A buffer in the hole or past RAM: EFAULT, nothing written.
        Assert.Equal(-(long)XenErrno.EFAULT, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.GetRunstateInfo, 0, Ram + 4090));
        Assert.Equal(-(long)XenErrno.EFAULT, VcpuOpHypercall.Handle(hv, d, _mem, VcpuOpHypercall.GetRunstateInfo, 0, ulong.MaxValue - 8));
        // initialise/up/down and unknown commands: HSM's job here, as PSCI's on Xen/Arm.
        foreach (var cmd in new uint[] { 0, 1, 2, 8, 10, 99, uint.MaxValue })
        {
            Assert.Equal(-(long)XenErrno.EINVAL, VcpuOpHypercall.Handle(hv, d, _mem, cmd, 0, Ram));
        }
    }
}
