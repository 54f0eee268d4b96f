namespace Disagg.Kernel.Core.Sched;

/// <summary>
/// How the scheduler gets a pCPU's attention: wake it if idle, or make the vCPU it runs return
/// to the scheduler soon (the CPU engine checks at block boundaries). Called with the scheduler
/// lock held, so it must only set flags and signal, never call back into the scheduler.
/// </summary>
public interface IPcpuKicker
{
    void Kick(int pcpu);
}
