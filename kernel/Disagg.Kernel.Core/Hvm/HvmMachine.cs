using System.Security.Cryptography;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Hvm;

/// <summary>
/// What the kernel itself emulates for an HVM domain (ARCHITECTURE §3: what must be fast and is part
/// of the platform): the PLIC, wired to each vCPU's SEIP, and the MMIO dispatch behind the domain's
/// P2M, with the empty virtio slots. Built with the domain; boots an unmodified kernel with the Linux
/// RISC-V boot protocol (a0 = hart id, a1 = device tree).
/// </summary>
public sealed class HvmMachine
{
    private const ulong PageSize = 4096;
    private const ulong InitrdAlignment = 2UL << 20;

    /// <summary>QEMU virt's rng-seed size.</summary>
    private const int RngSeedBytes = 64;

    public HvmMachine(IReadOnlyList<Vcpu> vcpus, P2m memory)
    {
        Plic = new Plic(vcpus.Count, VirtLayout.PlicSources, (context, high) =>
        {
            if (high)
            {
                vcpus[context].RaiseInterrupt(Interrupts.SupervisorExternal);
            }
            else
            {
                vcpus[context].Hart.ClearInterrupt(Interrupts.SupervisorExternal);
            }
        });
        Bus = new MmioBus();
        Bus.Map(VirtLayout.PlicBase, VirtLayout.PlicSize, Plic);
        for (var n = 0; n < VirtLayout.VirtioSlots; n++)
        {
            Bus.Map(VirtLayout.VirtioSlot(n), VirtLayout.VirtioStride, EmptyVirtioSlot.Instance);
        }

        // What the device model answers (through the ioreq page); the device tree lists them once one is named.
        Bus.MapDeviceModel(VirtLayout.UartBase, VirtLayout.UartSize);
        Bus.MapDeviceModel(VirtLayout.TestDeviceBase, VirtLayout.TestDeviceSize);
        memory.Mmio = Bus;
    }

    public Plic Plic { get; }

    public MmioBus Bus { get; }

    /// <summary>Where the last boot put things, for the log and for tests.</summary>
    public LinuxBootLayout? BootLayout { get; private set; }

    /// <summary>
    /// Loads <paramref name="kernel"/>'s segments where its loader put them (a Linux Image at RAM + its
    /// text_offset, an ELF's PT_LOAD segments, a raw binary at RAM + 2 MiB), the device tree at the top of RAM
    /// and the initrd below it, then points vCPU 0 at the entry with a0 = 0 and a1 = the tree
    /// (Documentation/riscv/boot.rst; what QEMU's virt does for all three). Throws
    /// <see cref="HvmBootException"/>, before anything is loaded, when a segment lies outside RAM or over the
    /// initrd or tree, or the entry is in no segment.
    /// </summary>
    public void PrepareBoot(Domain domain, HvmKernel kernel, string commandLine, byte[]? ramdisk)
    {
        var ramBytes = (ulong)domain.Memory.PopulatedPages * PageSize;
        var ramTop = VirtLayout.RamBase + ramBytes;
        ulong kernelStart = ulong.MaxValue, kernelEnd = 0;
        foreach (var s in kernel.Segments)
        {
            var end = s.PhysicalAddress + s.MemorySize;
            if (s.PhysicalAddress < VirtLayout.RamBase || end < s.PhysicalAddress || end > ramTop || s.MemorySize < (ulong)s.Data.Length)
            {
                throw new HvmBootException(domain.Id, kernel.Format, $"segment 0x{s.PhysicalAddress:x}+0x{s.MemorySize:x} lies outside RAM 0x{VirtLayout.RamBase:x}-0x{ramTop:x} ({ramBytes >> 20} MiB)");
            }

            kernelStart = Math.Min(kernelStart, s.PhysicalAddress);
            kernelEnd = Math.Max(kernelEnd, end);
        }

        if (!kernel.Segments.Any(s => kernel.Entry >= s.PhysicalAddress && kernel.Entry < s.PhysicalAddress + (ulong)s.Data.Length))
        {
            throw new HvmBootException(domain.Id, kernel.Format, $"entry point 0x{kernel.Entry:x} is in no loaded segment");
        }

        // The device tree goes at the top of RAM and the initrd, 2 MiB-aligned, below it: far from the
        // kernel's end, which Linux rounds up and allocates right after while it boots (an initrd that
        // starts at image_size is "overlaps in-use memory region - disabling initrd"). The tree's size
        // does not depend on where things are, so one built with placeholder addresses measures it.
        var ramdiskBytes = (ulong)(ramdisk?.Length ?? 0);
        Span<byte> seed = stackalloc byte[RngSeedBytes];
        RandomNumberGenerator.Fill(seed);
        var deviceModel = domain.Ioreq?.DeviceModelDomain >= 0;
        var treeBytes = AlignUp((ulong)VirtDeviceTree.Build(domain.Spec.Isa, domain.Vcpus.Count, ramBytes, commandLine, 1, 2, seed, deviceModel).Length, PageSize);
        var dtbAddress = ramTop - Math.Min(treeBytes, ramBytes);
        var initrdStart = ramdiskBytes == 0 ? 0 : (dtbAddress - Math.Min(ramdiskBytes, dtbAddress - VirtLayout.RamBase)) & ~(InitrdAlignment - 1);
        var initrdEnd = ramdiskBytes == 0 ? 0 : initrdStart + ramdiskBytes;
        var dtb = VirtDeviceTree.Build(domain.Spec.Isa, domain.Vcpus.Count, ramBytes, commandLine, initrdStart, initrdEnd, seed, deviceModel);
        var lowestAbove = ramdiskBytes == 0 ? dtbAddress : initrdStart;
        if (kernelEnd > lowestAbove || initrdEnd > dtbAddress || treeBytes >= ramBytes)
        {
            throw new HvmBootException(
                domain.Id,
                kernel.Format,
                $"0x{kernelStart:x}-0x{kernelEnd:x}, a {ramdiskBytes >> 10} KiB initrd and a {dtb.Length}-byte device tree do not fit {ramBytes >> 20} MiB of RAM");
        }

        foreach (var s in kernel.Segments)
        {
            domain.Load(s);
        }

        if (ramdisk is { Length: > 0 })
        {
            domain.Load(new ImageSegment(initrdStart, ramdisk, (ulong)ramdisk.Length));
        }

        domain.Load(new ImageSegment(dtbAddress, dtb, (ulong)dtb.Length));
        var boot = domain.Vcpus[0].Hart;
        boot.Pc = kernel.Entry;
        boot.Privilege = Privilege.Supervisor;
        boot.SetX(10, 0);
        boot.SetX(11, dtbAddress);
        BootLayout = new LinuxBootLayout(kernelStart, kernelEnd, initrdStart, initrdEnd, dtbAddress, dtb.Length);
    }

    /// <summary>
    /// A device model was named: from now on it answers the eight virtio-mmio slots (qemu-dm serves its
    /// devices there and answers the empty ones DeviceID 0, as QEMU does), the kernel no longer does.
    /// </summary>
    public void HandVirtioSlotsToDeviceModel()
    {
        for (var n = 0; n < VirtLayout.VirtioSlots; n++)
        {
            Bus.HandToDeviceModel(VirtLayout.VirtioSlot(n), VirtLayout.VirtioStride);
        }
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) & ~(alignment - 1);
}
