namespace Disagg.Kernel.Core.Sched;

/// <summary>Where a vCPU stands with the scheduler.</summary>
public enum VcpuRunState
{
    /// <summary>Waiting for an event or a timer (WFI, sched_op block/poll); costs no host CPU.</summary>
    Blocked,
    /// <summary>On a runqueue, waiting for a pCPU.</summary>
    Runnable,
    /// <summary>On a pCPU now.</summary>
    Running,
    /// <summary>Held by the control domain (pause) or not started (SBI HSM); runs only when released.</summary>
    Paused,
    /// <summary>Its domain used its cap for this accounting period; runnable again at the next one.</summary>
    Parked,
}
