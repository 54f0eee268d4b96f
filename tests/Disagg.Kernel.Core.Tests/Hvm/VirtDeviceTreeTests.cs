using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Tests.Hvm;

public sealed class VirtDeviceTreeTests
{
    [Fact]
    public void TheTreeDescribesQemuVirtForTwoHarts()
    {
        var seed = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var blob = VirtDeviceTree.Build(IsaWidth.Rv64, 2, 128UL << 20, "earlycon=sbi", 0x8220_0000, 0x8230_0000, seed);
        var root = FdtReader.Parse(blob, out _);
        Assert.Equal(seed, root.Child("chosen").Properties["rng-seed"]);

        Assert.Equal("earlycon=sbi", root.Child("chosen").String("bootargs"));
        Assert.Equal([0x8220_0000UL], root.Child("chosen").Pairs("linux,initrd-start"));
        Assert.Equal([0x8230_0000UL], root.Child("chosen").Pairs("linux,initrd-end"));
        var memory = root.Child("memory@80000000");
        Assert.Equal("memory", memory.String("device_type"));
        Assert.Equal([0x8000_0000UL, 128UL << 20], memory.Pairs("reg"));

        var cpus = root.Child("cpus");
        Assert.Equal([10_000_000u], cpus.Cells("timebase-frequency"));
        Assert.Equal(2, cpus.Children.Count);
        var handles = new List<uint>();
        for (var h = 0; h < 2; h++)
        {
            var cpu = cpus.Child($"cpu@{h}");
            Assert.Equal([(uint)h], cpu.Cells("reg"));
            Assert.Equal("rv64imafdc_zicntr_zicsr_zifencei", cpu.String("riscv,isa"));
            Assert.Equal("rv64i", cpu.String("riscv,isa-base"));
            Assert.Contains("zifencei", cpu.StringList("riscv,isa-extensions"));
            Assert.DoesNotContain("v", cpu.StringList("riscv,isa-extensions")); // only what the engine implements
            Assert.Equal("riscv,sv39", cpu.String("mmu-type"));
            var intc = cpu.Child("interrupt-controller");
            Assert.Equal("riscv,cpu-intc", intc.String("compatible"));
            Assert.True(intc.Properties.ContainsKey("interrupt-controller"));
            handles.Add(intc.Cells("phandle").Single());
        }

        var soc = root.Child("soc");
        var plic = soc.Child("plic@c000000");
        Assert.Equal(["sifive,plic-1.0.0", "riscv,plic0"], plic.StringList("compatible"));
        Assert.Equal([95u], plic.Cells("riscv,ndev"));
        Assert.Equal([0x0C00_0000UL, 0x60_0000UL], plic.Pairs("reg"));
        Assert.Equal([handles[0], 9u, handles[1], 9u], plic.Cells("interrupts-extended")); // context h = hart h's S-mode
        var plicHandle = plic.Cells("phandle").Single();
        Assert.DoesNotContain(plicHandle, handles);

        var virtio = soc.Children.Where(c => c.Name.StartsWith("virtio_mmio@", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, virtio.Count);
        var slot0 = soc.Child("virtio_mmio@10001000");
        Assert.Equal([1u], slot0.Cells("interrupts"));
        Assert.Equal([plicHandle], slot0.Cells("interrupt-parent"));
        Assert.Equal([0x1000_1000UL, 0x1000UL], slot0.Pairs("reg"));
        Assert.Equal([8u], soc.Child("virtio_mmio@10008000").Cells("interrupts"));
    }

    [Fact]
    public void WithoutAnInitrdChosenHasNoRange()
    {
        var chosen = FdtReader.Parse(VirtDeviceTree.Build(IsaWidth.Rv64, 1, 64UL << 20, ""), out _).Child("chosen");
        Assert.False(chosen.Properties.ContainsKey("linux,initrd-start"));
        Assert.False(chosen.Properties.ContainsKey("rng-seed"));
    }

    [Fact]
    public void NoHartsOrNoRamIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtDeviceTree.Build(IsaWidth.Rv64, 0, 64UL << 20, ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => VirtDeviceTree.Build(IsaWidth.Rv64, 1, 0, ""));
    }
}
