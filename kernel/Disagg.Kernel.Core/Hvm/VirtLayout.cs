namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// Where things are on the machine an HVM domain sees: QEMU's `virt` board (spec/hvm-platform.md,
/// "Memory map and interrupt lines"; ARCHITECTURE §2), so unmodified software finds what it expects.
/// </summary>
public static class VirtLayout
{
    public const ulong RamBase = 0x8000_0000;

    /// <summary>
    /// Where a raw kernel is loaded and entered: RAM + 2 MiB, where QEMU virt puts a `-kernel` that is neither
    /// ELF nor a Linux Image on RV64 (the first 2 MiB-aligned address after the SBI firmware) and what such
    /// kernels are linked for (U-Boot's S-mode CONFIG_TEXT_BASE 0x8020_0000 is not position-independent).
    /// </summary>
    public const ulong RawKernelOffset = 2UL << 20;

    public const ulong PlicBase = 0x0C00_0000;

    /// <summary>QEMU's PLIC window: room for the contexts of 8 harts' M and S modes.</summary>
    public const ulong PlicSize = 0x60_0000;

    /// <summary>The SiFive test device ("sifive,test0", syscon poweroff/reboot); qemu-dm answers it.</summary>
    public const ulong TestDeviceBase = 0x10_0000;
    public const ulong TestDeviceSize = 0x1000;

    /// <summary>UART0, an ns16550a with 8-bit registers (reg-shift 0); qemu-dm answers it.</summary>
    public const ulong UartBase = 0x1000_0000;
    public const ulong UartSize = 0x100;

    /// <summary>The UART's PLIC source.</summary>
    public const int UartIrq = 10;

    /// <summary>QEMU's UART input clock (the device tree's clock-frequency).</summary>
    public const uint UartClockHz = 3_686_400;

    public const ulong VirtioBase = 0x1000_1000;
    public const ulong VirtioStride = 0x1000;
    public const int VirtioSlots = 8;

    /// <summary>virtio-mmio slot n raises PLIC source 1 + n.</summary>
    public const int VirtioFirstIrq = 1;

    /// <summary>Interrupt sources 1..95, as QEMU's virt machine declares (riscv,ndev).</summary>
    public const int PlicSources = 95;

    /// <summary>The `time` CSR's rate, the device tree's timebase-frequency.</summary>
    public const uint TimebaseHz = 10_000_000;

    public static ulong VirtioSlot(int n) => VirtioBase + ((ulong)n * VirtioStride);
}
