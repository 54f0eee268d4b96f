namespace Disagg.Virtio.Transport;

/// <summary>
/// A device's interrupt wire to the platform's interrupt controller (the PLIC source 1 + slot on QEMU
/// virt). Level-triggered: asserted while InterruptStatus is non-zero (§4.2.2). Called only on change.
/// </summary>
public interface IInterruptLine
{
    void SetLevel(bool asserted);
}
