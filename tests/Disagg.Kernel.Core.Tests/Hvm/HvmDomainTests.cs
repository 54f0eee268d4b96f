using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Tests;
using Disagg.TestSupport;

namespace Disagg.Kernel.Core.Tests.Hvm;

/// <summary>An HVM domain's platform as its guest sees it: the PLIC over MMIO, SEIP, and faults where nothing is mapped.</summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class HvmDomainTests : IDisposable
{
    private const uint Sip = 0x144, Stvec = 0x105, Scause = 0x142, Stval = 0x143;
    private const ulong Handler = GuestProgram.CodeBase + 0x800;

    private readonly HypervisorFixture _hv = new();

    public void Dispose() => _hv.Dispose();

    [Fact]
    public void AGuestClaimsAPlicInterruptThroughMmioAndAnUnmappedAddressFaultsIt()
    {
        var p = new GuestProgram();
        var result = p.Data(new byte[24]);
        p.Li(GuestProgram.T0, (int)VirtLayout.PlicBase + (4 * 5)).Li(GuestProgram.T1, 1).Emit(Asm.Sw(GuestProgram.T1, GuestProgram.T0, 0)); // priority of source 5
        p.Li(GuestProgram.T0, (int)VirtLayout.PlicBase + 0x2000).Li(GuestProgram.T1, 1 << 5).Emit(Asm.Sw(GuestProgram.T1, GuestProgram.T0, 0)); // hart 0 enables it
        p.La(GuestProgram.S1, result);
        p.Emit(Asm.Csrr(GuestProgram.T1, Sip)); // wait for SEIP
        p.Emit(Asm.I(0x13, GuestProgram.T2, 5, GuestProgram.T1, 9)); // srli
        p.Emit(Asm.I(0x13, GuestProgram.T2, 7, GuestProgram.T2, 1)); // andi
        p.Emit(Asm.Beq(GuestProgram.T2, 0, -12));
        p.Li(GuestProgram.T0, (int)VirtLayout.PlicBase + 0x20_0004).Emit(Asm.Lw(GuestProgram.T1, GuestProgram.T0, 0)); // claim
        p.Emit(Asm.Sw(GuestProgram.T1, GuestProgram.S1, 0));
        p.Emit(Asm.Sw(GuestProgram.T1, GuestProgram.T0, 0)); // complete
        p.La(GuestProgram.T0, Handler).Emit(Asm.Csrw(Stvec, GuestProgram.T0));
        p.Li(GuestProgram.T0, 0x1100_0000).Emit(Asm.Lw(GuestProgram.T1, GuestProgram.T0, 0)); // past the virtio slots: nothing there
        while (p.Here < Handler)
        {
            p.Emit(Asm.Addi(0, 0, 0));
        }

        p.Emit(Asm.Csrr(GuestProgram.T1, Scause)).Emit(Asm.Sd(GuestProgram.T1, GuestProgram.S1, 8));
        p.Emit(Asm.Csrr(GuestProgram.T1, Stval)).Emit(Asm.Sd(GuestProgram.T1, GuestProgram.S1, 16));
        p.Shutdown();

        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "hvm", MemoryPages = 64, MaxMemoryPages = 64, Hvm = true });
        d.PrepareBoot(p.Build(), GuestProgram.CodeBase, "");
        d.Hvm!.Plic.SetLevel(5, true);
        d.Unpause();
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), $"state {d.State}\n{_hv.Dmesg()}");
        Assert.Equal(ShutdownReason.Poweroff, d.ShutdownReason);

        var bytes = new byte[24];
        Assert.True(d.Vcpus[0].Hart.TryReadPhysical(result, bytes));
        Assert.Equal(5u, BitConverter.ToUInt32(bytes, 0)); // the claim returned source 5
        Assert.Equal(5UL, BitConverter.ToUInt64(bytes, 8)); // load access fault
        Assert.Equal(0x1100_0000UL, BitConverter.ToUInt64(bytes, 16));
        Assert.True(d.Hvm.Plic.Claimable(0)); // completed while still asserted: pending again (level-triggered)
    }

    [Fact]
    public void APvDomainHasNoPlatformDevices()
    {
        var d = _hv.Hypervisor.CreateDomain(new DomainSpec { Name = "pv", MemoryPages = 64, MaxMemoryPages = 64 });
        Assert.Null(d.Hvm);
        Assert.Equal(MmioResult.Fault, d.Memory.ReadMmio(VirtLayout.PlicBase, 4, out _));
    }
}
