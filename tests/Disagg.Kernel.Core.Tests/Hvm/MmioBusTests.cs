using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Core.Tests.Hvm;

public sealed class MmioBusTests
{
    [Fact]
    public void AnAccessGoesToTheWindowThatHoldsItAtItsOffset()
    {
        var bus = new MmioBus();
        bus.Map(VirtLayout.VirtioSlot(0), VirtLayout.VirtioStride, EmptyVirtioSlot.Instance);
        Assert.True(bus.TryRead(VirtLayout.VirtioSlot(0), 4, out var magic));
        Assert.Equal(0x7472_6976UL, magic);
        Assert.True(bus.TryRead(VirtLayout.VirtioSlot(0) + 4, 4, out var version));
        Assert.Equal(2UL, version);
        Assert.True(bus.TryRead(VirtLayout.VirtioSlot(0) + 8, 4, out var device));
        Assert.Equal(0UL, device); // empty slot: no device
        Assert.True(bus.TryWrite(VirtLayout.VirtioSlot(0) + 0x70, 4, 1));
        Assert.False(bus.TryRead(VirtLayout.VirtioSlot(0), 8, out _)); // virtio-mmio registers are 32-bit
    }

    [Fact]
    public void AnAddressNoWindowHoldsIsRefused()
    {
        var bus = new MmioBus();
        bus.Map(0x1000, 0x1000, EmptyVirtioSlot.Instance);
        Assert.False(bus.TryRead(0xFFC, 4, out _));
        Assert.False(bus.TryRead(0x2000, 4, out _));
        Assert.False(bus.TryWrite(0x1FFE, 4, 0)); // straddles the end
        Assert.False(bus.TryRead(ulong.MaxValue - 1, 4, out _));
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
}
