using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Tests.Hvm;

public sealed class MmioBusTests
{
    [Fact]
    public void AnAccessGoesToTheWindowThatHoldsItAtItsOffset()
    {
        var bus = new MmioBus();
        bus.Map(VirtLayout.VirtioSlot(0), VirtLayout.VirtioStride, EmptyVirtioSlot.Instance);
        Assert.Equal(MmioResult.Done, bus.Read(VirtLayout.VirtioSlot(0), 4, out var magic));
        Assert.Equal(0x7472_6976UL, magic);
        Assert.Equal(MmioResult.Done, bus.Read(VirtLayout.VirtioSlot(0) + 4, 4, out var version));
        Assert.Equal(2UL, version);
        Assert.Equal(MmioResult.Done, bus.Read(VirtLayout.VirtioSlot(0) + 8, 4, out var device));
        Assert.Equal(0UL, device); // empty slot: no device
        Assert.Equal(MmioResult.Done, bus.Write(VirtLayout.VirtioSlot(0) + 0x70, 4, 1));
        Assert.Equal(MmioResult.Fault, bus.Read(VirtLayout.VirtioSlot(0), 8, out _)); // virtio-mmio registers are 32-bit
    }

    [Fact]
    public void AnAddressNoWindowHoldsIsRefused()
    {
        var bus = new MmioBus();
        bus.Map(0x1000, 0x1000, EmptyVirtioSlot.Instance);
        Assert.Equal(MmioResult.Fault, bus.Read(0xFFC, 4, out _));
        Assert.Equal(MmioResult.Fault, bus.Read(0x2000, 4, out _));
        Assert.Equal(MmioResult.Fault, bus.Write(0x1FFE, 4, 0)); // straddles the end
        Assert.Equal(MmioResult.Fault, bus.Read(ulong.MaxValue - 1, 4, out _));
    }

    [Fact]
    public void OverlappingOrEmptyWindowsAreOurBug()
    {
        var bus = new MmioBus();
        bus.Map(0x1000, 0x1000, EmptyVirtioSlot.Instance);
        Assert.Throws<ArgumentException>(() => bus.Map(0x1800, 0x1000, EmptyVirtioSlot.Instance));
        Assert.Throws<ArgumentException>(() => bus.Map(0x0, 0x1001, EmptyVirtioSlot.Instance));
        Assert.Throws<ArgumentException>(() => bus.Map(0x5000, 0, EmptyVirtioSlot.Instance));
        Assert.Throws<ArgumentException>(() => bus.Map(ulong.MaxValue - 10, 0x100, EmptyVirtioSlot.Instance));
    }

    [Fact]
    public void ADeviceModelWindowLeavesTheAccessPendingInsideItAndFaultsPastItsEnd()
    {
        var bus = new MmioBus();
        bus.MapDeviceModel(VirtLayout.UartBase, VirtLayout.UartSize);
        Assert.Equal(MmioResult.Pending, bus.Read(VirtLayout.UartBase + 5, 1, out _));
        Assert.Equal(MmioResult.Pending, bus.Write(VirtLayout.UartBase, 1, (byte)'x'));
        Assert.Equal(MmioResult.Fault, bus.Read(VirtLayout.UartBase + VirtLayout.UartSize - 4, 8, out _)); // oversized: runs past the window
        Assert.Equal(MmioResult.Fault, bus.Read(VirtLayout.UartBase + VirtLayout.UartSize, 1, out _)); // unmapped
        Assert.True(bus.IsDeviceModel(VirtLayout.UartBase, 1));
    }
}
