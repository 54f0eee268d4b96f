namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// Raises a guest vCPU's event upcall: the supervisor external interrupt (ARCHITECTURE §2),
/// waking the vCPU if it is blocked. Must be safe from any thread and must not block.
/// </summary>
public interface IUpcallSink
{
    void RaiseUpcall(int vcpu);
}
