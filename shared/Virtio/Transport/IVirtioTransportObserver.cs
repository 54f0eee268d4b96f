using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Transport;

/// <summary>What the host of a transport (qemu-dm) hears from it, on the device's thread.</summary>
public interface IVirtioTransportObserver
{
    /// <summary>
    /// The saved record (<see cref="VirtioMmioTransport.SaveState"/>) changed: a register write that the
    /// guest will see once the access completes. qemu-dm persists the record before answering the access,
    /// so a restart never finds an older one than the guest saw. Queue indices do not call this: they are
    /// recovered from guest memory.
    /// </summary>
    void StateChanged();

    /// <summary>A guest protocol error stopped the device (DEVICE_NEEDS_RESET): log and count it.</summary>
    void Faulted(VirtioFault fault);
}
