using Disagg.Kernel.Core.Hvm.Fdt;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// The device tree an HVM domain boots with: QEMU virt's tree for what the kernel emulates
/// (spec/hvm-platform.md, "Linux boot protocol"): memory, one cpu node per vCPU with the ISA the
/// engine implements and its interrupt controller, the PLIC, the eight virtio-mmio slots, and
/// /chosen (bootargs, initrd, rng-seed). With a device model (qemu-dm) the tree also lists what it serves:
/// the ns16550a UART (the stdout-path) and the SiFive test device with QEMU's syscon poweroff/reboot nodes;
/// without one the console is SBI's (earlycon=sbi).
/// </summary>
public static class VirtDeviceTree
{
    /// <summary>What the engine implements (docs/CPU.md): RV64GC/RV32GC with Zicsr, Zifencei, and cycle/time/instret.</summary>
    private static readonly string[] Extensions = ["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei"];

    /// <param name="rngSeed">/chosen/rng-seed, as QEMU passes: Linux credits it to its RNG at once, instead of
    /// collecting timer jitter for seconds before its first random numbers. Empty: none.</param>
    public static byte[] Build(IsaWidth isa, int harts, ulong ramBytes, string bootArgs, ulong initrdStart = 0, ulong initrdEnd = 0, ReadOnlySpan<byte> rngSeed = default, bool deviceModel = false)
    {
        if (harts < 1 || ramBytes == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(harts), $"{harts} harts, {ramBytes} bytes of RAM");
        }

        var width = isa == IsaWidth.Rv64 ? "rv64" : "rv32";
        var intc = new uint[harts];
        for (var h = 0; h < harts; h++)
        {
            intc[h] = (uint)(h + 1);
        }

        var plicHandle = (uint)harts + 1;
        var testHandle = (uint)harts + 2;
        var fdt = new FdtWriter();
        fdt.BeginNode("");
        fdt.U32("#address-cells", 2);
        fdt.U32("#size-cells", 2);
        fdt.Strings("compatible", "riscv-virtio");
        fdt.Strings("model", "riscv-virtio,qemu");

        fdt.BeginNode("chosen");
        fdt.Strings("bootargs", bootArgs);
        if (deviceModel)
        {
            fdt.Strings("stdout-path", $"/soc/serial@{VirtLayout.UartBase:x}");
        }

        if (!rngSeed.IsEmpty)
        {
            fdt.Property("rng-seed", rngSeed);
        }

        if (initrdEnd > initrdStart)
        {
            fdt.U64("linux,initrd-start", initrdStart);
            fdt.U64("linux,initrd-end", initrdEnd);
        }

        fdt.EndNode();

        fdt.BeginNode($"memory@{VirtLayout.RamBase:x}");
        fdt.Strings("device_type", "memory");
        fdt.U64("reg", VirtLayout.RamBase, ramBytes);
        fdt.EndNode();

        fdt.BeginNode("cpus");
        fdt.U32("#address-cells", 1);
        fdt.U32("#size-cells", 0);
        fdt.U32("timebase-frequency", VirtLayout.TimebaseHz);
        for (var h = 0; h < harts; h++)
        {
            fdt.BeginNode($"cpu@{h}");
            fdt.Strings("device_type", "cpu");
            fdt.U32("reg", (uint)h);
            fdt.Strings("status", "okay");
            fdt.Strings("compatible", "riscv");
            fdt.Strings("riscv,isa", width + "imafdc_zicntr_zicsr_zifencei");
            fdt.Strings("riscv,isa-base", width + "i");
            fdt.Strings("riscv,isa-extensions", Extensions);
            fdt.Strings("mmu-type", isa == IsaWidth.Rv64 ? "riscv,sv39" : "riscv,sv32");
            fdt.BeginNode("interrupt-controller");
            fdt.U32("#interrupt-cells", 1);
            fdt.Empty("interrupt-controller");
            fdt.Strings("compatible", "riscv,cpu-intc");
            fdt.U32("phandle", intc[h]);
            fdt.EndNode();
            fdt.EndNode();
        }

        fdt.EndNode();

        fdt.BeginNode("soc");
        fdt.U32("#address-cells", 2);
        fdt.U32("#size-cells", 2);
        fdt.Strings("compatible", "simple-bus");
        fdt.Empty("ranges");

        fdt.BeginNode($"plic@{VirtLayout.PlicBase:x}");
        fdt.U32("phandle", plicHandle);
        fdt.U32("riscv,ndev", VirtLayout.PlicSources);
        fdt.U64("reg", VirtLayout.PlicBase, VirtLayout.PlicSize);
        var contexts = new uint[harts * 2];
        for (var h = 0; h < harts; h++)
        {
            contexts[2 * h] = intc[h];
            contexts[(2 * h) + 1] = 9; // IRQ_S_EXT: context h is hart h's S-mode
        }

        fdt.U32("interrupts-extended", contexts);
        fdt.Empty("interrupt-controller");
        fdt.Strings("compatible", "sifive,plic-1.0.0", "riscv,plic0");
        fdt.U32("#address-cells", 0);
        fdt.U32("#interrupt-cells", 1);
        fdt.EndNode();

        // QEMU lists the slots from the last to the first; Linux numbers virtio devices in tree order.
        for (var n = VirtLayout.VirtioSlots - 1; n >= 0; n--)
        {
            fdt.BeginNode($"virtio_mmio@{VirtLayout.VirtioSlot(n):x}");
            fdt.U32("interrupts", (uint)(VirtLayout.VirtioFirstIrq + n));
            fdt.U32("interrupt-parent", plicHandle);
            fdt.U64("reg", VirtLayout.VirtioSlot(n), VirtLayout.VirtioStride);
            fdt.Strings("compatible", "virtio,mmio");
            fdt.EndNode();
        }

        if (deviceModel)
        {
            fdt.BeginNode($"serial@{VirtLayout.UartBase:x}");
            fdt.U32("interrupts", (uint)VirtLayout.UartIrq);
            fdt.U32("interrupt-parent", plicHandle);
            fdt.U32("clock-frequency", VirtLayout.UartClockHz);
            fdt.U64("reg", VirtLayout.UartBase, VirtLayout.UartSize);
            fdt.Strings("compatible", "ns16550a");
            fdt.EndNode();

            fdt.BeginNode($"test@{VirtLayout.TestDeviceBase:x}");
            fdt.U32("phandle", testHandle);
            fdt.U64("reg", VirtLayout.TestDeviceBase, VirtLayout.TestDeviceSize);
            fdt.Strings("compatible", "sifive,test1", "sifive,test0", "syscon");
            fdt.EndNode();
        }

        fdt.EndNode(); // soc
        if (deviceModel)
        {
            SysconNode(fdt, "poweroff", "syscon-poweroff", 0x5555, testHandle);
            SysconNode(fdt, "reboot", "syscon-reboot", 0x7777, testHandle);
        }

        fdt.EndNode(); // root
        return fdt.Finish();
    }

    /// <summary>QEMU's syscon-poweroff/-reboot: Linux writes value at offset 0 of the test device.</summary>
    private static void SysconNode(FdtWriter fdt, string name, string compatible, uint value, uint regmap)
    {
        fdt.BeginNode(name);
        fdt.U32("value", value);
        fdt.U32("offset", 0);
        fdt.U32("regmap", regmap);
        fdt.Strings("compatible", compatible);
        fdt.EndNode();
    }
}
