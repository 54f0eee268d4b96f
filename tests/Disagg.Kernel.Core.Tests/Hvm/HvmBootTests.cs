using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests.Hvm;

/// <summary>
/// How an HVM domain's kernel is placed and entered, whatever its format (HvmMachine.PrepareBoot): segments
/// where the loader put them, vCPU 0 at the entry with a0 = hart id and a1 = the device tree; segments outside
/// RAM or over the tree or initrd, and entries in no segment, refused with a typed error before anything is loaded.
/// </summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class HvmBootTests : IDisposable
{
    private const ulong RamBase = VirtLayout.RamBase;
    private const int RamMiB = 8;
    private const ulong RamTop = RamBase + (RamMiB << 20);

    private readonly HypervisorFixture _hv = new();

    public void Dispose() => _hv.Dispose();

    /// <summary>A program moved to RAM + 2 MiB (where a raw kernel goes) runs there and sees a0 = 0 and a1 = the tree's address, the tree's magic in place.</summary>
    [Fact]
    public void AKernelIsEnteredWhereItSaysWithTheHartIdAndTheDeviceTree()
    {
        var p = new GuestProgram();
        var result = p.Data(new byte[24]);
        p.La(GuestProgram.S1, result);
        p.Emit(Asm.Sd(GuestProgram.A0, GuestProgram.S1, 0));
        p.Emit(Asm.Sd(GuestProgram.A1, GuestProgram.S1, 8));
        p.Emit(Asm.Lwu(GuestProgram.T1, GuestProgram.A1, 0));
        p.Emit(Asm.Sw(GuestProgram.T1, GuestProgram.S1, 16));
        p.Shutdown();
        var moved = Moved(p.Build(), VirtLayout.RawKernelOffset);

        var d = Domain("entered");
        d.Hvm!.PrepareBoot(d, new HvmKernel("raw", moved, RamBase + VirtLayout.RawKernelOffset), "console=ttyS0", null);
        var at = d.Hvm.BootLayout!;
        Assert.Equal(RamBase + VirtLayout.RawKernelOffset, at.KernelStart);
        d.Unpause();
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), $"state {d.State}\n{_hv.Dmesg()}");
        Assert.Equal(ShutdownReason.Poweroff, d.ShutdownReason);

        var bytes = new byte[24];
        Assert.True(d.Vcpus[0].Hart.TryReadPhysical(result + VirtLayout.RawKernelOffset, bytes));
        Assert.Equal(0UL, BitConverter.ToUInt64(bytes, 0)); // a0: hart 0
        Assert.Equal(at.DeviceTree, BitConverter.ToUInt64(bytes, 8)); // a1
        Assert.Equal(0xEDFE0DD0u, BitConverter.ToUInt32(bytes, 16)); // 0xd00dfeed, big-endian in memory
        Assert.True(at.DeviceTree + (ulong)at.DeviceTreeBytes <= RamTop);
    }

    [Theory]
    [InlineData("below-ram", 0x1000UL, 0x1000UL, "lies outside RAM 0x80000000-0x80800000 (8 MiB)")]
    [InlineData("past-ram", RamTop - 0x1000, 0x2000UL, "lies outside RAM")]
    [InlineData("wraps", 0xFFFF_FFFF_FFFF_F000UL, 0x2000UL, "lies outside RAM")]
    [InlineData("over-the-tree", RamTop - 0x3000, 0x3000UL, "do not fit 8 MiB of RAM")]
    public void ASegmentOutsideItsPlaceIsRefusedAndNothingIsLoaded(string name, ulong address, ulong size, string reason)
    {
        var d = Domain(name);
        var good = new ImageSegment(RamBase + VirtLayout.RawKernelOffset, [0x13, 0, 0, 0, 0x6F, 0, 0, 0], 8);
        var bad = new ImageSegment(address, new byte[0x1000], size);
        var e = Assert.Throws<HvmBootException>(() => d.Hvm!.PrepareBoot(d, new HvmKernel("ELF", [good, bad], good.PhysicalAddress), "", null));
        Assert.Equal(d.Id, e.DomainId);
        Assert.Equal("ELF", e.Format);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"domain {d.Id}: ELF kernel: ", e.Message, StringComparison.Ordinal);
        AssertNothingLoaded(d);
    }

    [Fact]
    public void AKernelOverTheInitrdIsRefused()
    {
        var d = Domain("initrd");
        var kernel = new HvmKernel("Linux Image", [new ImageSegment(RamBase + 0x20_0000, [0x13, 0, 0, 0], 5UL << 20)], RamBase + 0x20_0000);
        var e = Assert.Throws<HvmBootException>(() => d.Hvm!.PrepareBoot(d, kernel, "", new byte[2 << 20]));
        Assert.Contains("a 2048 KiB initrd", e.Reason, StringComparison.Ordinal);
        AssertNothingLoaded(d);
    }

    [Theory]
    [InlineData(0x8000_0000UL)] // in RAM, in no segment
    [InlineData(0x8020_0008UL)] // in the segment's zero-filled tail, not its bytes
    public void AnEntryInNoLoadedBytesIsRefused(ulong entry)
    {
        var d = Domain("entry");
        var kernel = new HvmKernel("ELF", [new ImageSegment(RamBase + VirtLayout.RawKernelOffset, [0x13, 0, 0, 0, 0x6F, 0, 0, 0], 0x1000)], entry);
        var e = Assert.Throws<HvmBootException>(() => d.Hvm!.PrepareBoot(d, kernel, "", null));
        Assert.Contains($"entry point 0x{entry:x} is in no loaded segment", e.Reason, StringComparison.Ordinal);
        AssertNothingLoaded(d);
    }

    private Domain Domain(string name) =>
        _hv.Hypervisor.CreateDomain(new DomainSpec { Name = name, MemoryPages = RamMiB * 256, MaxMemoryPages = RamMiB * 256, Hvm = true });

    private static List<ImageSegment> Moved(IReadOnlyList<ImageSegment> segments, ulong by) =>
        [.. segments.Select(s => s with { PhysicalAddress = s.PhysicalAddress + by })];

    /// <summary>The good segment's bytes are not in RAM, vCPU 0 was not pointed anywhere, no layout was recorded.</summary>
    private static void AssertNothingLoaded(Domain d)
    {
        var bytes = new byte[8];
        Assert.True(d.Vcpus[0].Hart.TryReadPhysical(RamBase + VirtLayout.RawKernelOffset, bytes));
        Assert.All(bytes, b => Assert.Equal(0, b));
        Assert.Null(d.Hvm!.BootLayout);
        Assert.Equal(DomainState.Paused, d.State);
    }
}
