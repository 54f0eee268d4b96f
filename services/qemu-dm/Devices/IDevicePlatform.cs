namespace Disagg.QemuDm.Devices;

/// <summary>
/// What a device may ask of the kernel for its domain (Xen's dm_op): drive a PLIC line, shut the domain down,
/// and read or write the guest memory a virtio queue points at (through the kernel, bounded to the domain's
/// RAM: qemu-dm never holds the RAM). Synchronous: a device's effect is in place before its access is answered.
/// </summary>
internal interface IDevicePlatform
{
    void SetIrqLevel(int irq, bool asserted);

    void Shutdown(Disagg.Abi.Hypercalls.ShutdownReason reason);

    void ReadGuest(ulong address, Span<byte> destination);

    void WriteGuest(ulong address, ReadOnlySpan<byte> source);
}
