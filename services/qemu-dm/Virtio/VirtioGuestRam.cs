namespace Disagg.QemuDm.Virtio;

/// <summary>Where QEMU virt's RAM starts (its size comes from the kernel with the ioreq page).</summary>
internal static class VirtioGuestRam
{
    public const ulong Base = 0x8000_0000;
}
