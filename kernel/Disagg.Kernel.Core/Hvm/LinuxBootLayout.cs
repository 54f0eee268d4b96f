namespace Disagg.Kernel.Core.Hvm;

/// <summary>Where an HVM boot placed the kernel (from its lowest segment to the end of its highest), the initrd (0, 0 when none) and the device tree.</summary>
public sealed record LinuxBootLayout(ulong KernelStart, ulong KernelEnd, ulong InitrdStart, ulong InitrdEnd, ulong DeviceTree, int DeviceTreeBytes);
