namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// How a domain receives events: a guest through the 2-level bitmaps in its shared_info page
/// and an upcall interrupt (<see cref="TwoLevelEventDelivery"/>), a service process through a
/// pending bitmap in shared memory and its doorbell. Implementations are lock-free: Send runs
/// on every pCPU at once.
/// </summary>
public interface IEventDelivery
{
    /// <summary>Marks the port pending and notifies the vCPU unless it was already pending or is masked.</summary>
    void SetPending(int port, int vcpu);

    /// <summary>Clears the port's pending bit (when it is closed, so a stale event is not seen on reuse).</summary>
    void ClearPending(int port);

    /// <summary>Clears the port's mask; if it became pending while masked, notifies now.</summary>
    void Unmask(int port, int vcpu);

    bool IsPending(int port);

    bool IsMasked(int port);
}
