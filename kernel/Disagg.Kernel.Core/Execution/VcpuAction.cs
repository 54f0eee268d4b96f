namespace Disagg.Kernel.Core.Execution;

/// <summary>What a vCPU does after the kernel handled its ecall.</summary>
public enum VcpuAction
{
    /// <summary>Keep running the slice.</summary>
    Continue,
    /// <summary>Give the pCPU up now (sched_op yield); it stays runnable.</summary>
    Yield,
    /// <summary>Return to the scheduler: the vCPU blocked, stopped or its domain shut down.</summary>
    Deschedule,
}
