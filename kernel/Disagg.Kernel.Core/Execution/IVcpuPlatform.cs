namespace Disagg.Kernel.Core.Execution;

/// <summary>What answers a vCPU's ecalls: the SBI firmware and Xen hypercalls of its domain.</summary>
public interface IVcpuPlatform
{
    VcpuAction HandleEcall(Vcpu vcpu);

    /// <summary>Our own code failed while running the vCPU: the domain is crashed, the kernel goes on.</summary>
    void OnInternalError(Vcpu vcpu, Exception error);
}
