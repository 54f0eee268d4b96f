using Disagg.TestSupport;
using System.Diagnostics;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Core.Tests;

/// <summary>Domains on a real hypervisor: real pCPU threads running real harts.</summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class DomainLifecycleTests : IDisposable
{
    private readonly HypervisorFixture _hv = new();

    public void Dispose() => _hv.Dispose();

    private static GuestProgram Spin() => new GuestProgram().Emit(Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1)).JumpBack(1);

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void AGuestBootsPrintsAndShutsDown(IsaWidth isa)
    {
        var changes = new List<DomainStateChange>();
        _hv.Hypervisor.StateChanged += c => { lock (changes) { changes.Add(c); } };
        var d = _hv.Boot(new GuestProgram().Print("hello from a domain\n").Shutdown(), isa: isa);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), $"state {d.State}\n{_hv.Dmesg()}");
        Assert.Equal(ShutdownReason.Poweroff, d.ShutdownReason);
        Assert.Contains($"(d{d.Id}) hello from a domain\n", _hv.Dmesg(), StringComparison.Ordinal);
        lock (changes)
        {
            Assert.Contains(changes, c => c.DomainId == d.Id && c.State == DomainState.Shutdown);
        }
    }

    [Fact]
    public void AFailureResetIsACrash()
    {
        var d = _hv.Boot(new GuestProgram().Shutdown(reason: 1));
        Assert.True(Eventually.Holds(() => d.State == DomainState.Crashed));
        Assert.Equal(ShutdownReason.Crash, d.ShutdownReason);
    }

    [Fact]
    public void PauseFreezesInstretAndUnpauseResumesIt()
    {
        var d = _hv.Boot(Spin());
        var hart = d.Vcpus[0].Hart;
        Assert.True(Eventually.Holds(() => d.CpuTimeNs > 20_000_000));
        d.Pause();
        Assert.True(Eventually.Holds(() => !_hv.Hypervisor.Scheduler.IsOnCpu(d.Vcpus[0].Sched)));
        Assert.Equal(DomainState.Paused, d.State);
        var frozen = hart.InstructionsRetired;
        Thread.Sleep(100);
        Assert.Equal(frozen, hart.InstructionsRetired);
        Assert.True(d.Unpause());
        Assert.True(Eventually.Holds(() => hart.InstructionsRetired > frozen + 1_000_000));
        Assert.Equal(DomainState.Running, d.State);
    }

    [Fact]
    public void DestroyStopsTheGuestAndGivesItsMemoryBack()
    {
        var budget = _hv.Hypervisor.Budget;
        var before = budget.FreePages;
        var d = _hv.Boot(Spin(), memoryKiB: 8192);
        Assert.Equal(before - 2048 - PvLayout.SpecialPages, budget.FreePages);
        Assert.True(Eventually.Holds(() => d.CpuTimeNs > 10_000_000));
        _hv.Hypervisor.DestroyDomain(d);
        Assert.Equal(before, budget.FreePages);
        Assert.Null(_hv.Hypervisor.Domains[d.Id]);
        Assert.False(_hv.Hypervisor.Scheduler.IsOnCpu(d.Vcpus[0].Sched));
    }

    [Fact]
    public void CreatingPastTheBudgetFailsNamingTheNumbers()
    {
        var e = Assert.Throws<MemoryBudgetExceededException>(() => _hv.Boot(Spin(), name: "huge", memoryKiB: 512 * 1024));
        Assert.Contains("needs 512 MiB but the host has", e.Message, StringComparison.Ordinal);
        Assert.Contains("of 256 MiB", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, _hv.Hypervisor.Domains.Count);
    }

    [Fact]
    public void WfiWithAnSbiTimerWakesOnTime()
    {
        // sie.STIE on; deadline = time + 50 ms; set_timer; wfi; print; shut down.
        var p = new GuestProgram()
            .Li(GuestProgram.T0, 1 << 5).Emit(Asm.Csrrs(0, 0x104, GuestProgram.T0))
            .Emit(Asm.Csrr(GuestProgram.A0, 0xC01))
            .Li(GuestProgram.T1, 500_000).Emit(Asm.Add(GuestProgram.A0, GuestProgram.A0, GuestProgram.T1))
            .Li(GuestProgram.A6, 0).Li(GuestProgram.A7, 0x54494D45).Emit(Asm.Ecall)
            .Emit(Asm.Wfi)
            .Print("woke\n").Shutdown();
        var sw = Stopwatch.StartNew();
        var d = _hv.Boot(p);
        Assert.True(Eventually.Holds(() => d.State == DomainState.Shutdown), _hv.Dmesg());
        Assert.True(sw.ElapsedMilliseconds >= 45, $"woke after {sw.ElapsedMilliseconds} ms");
        Assert.Contains("woke", _hv.Dmesg(), StringComparison.Ordinal);
        Assert.True(d.CpuTimeNs < 40_000_000, $"a sleeping vCPU used {d.CpuTimeNs / 1e6} ms of CPU");
    }

    [Fact]
    public void TwoHundredIdleDomainsCostAlmostNothing()
    {
        var idle = new GuestProgram().Emit(Asm.Wfi).JumpBack(1);
        var domains = Enumerable.Range(0, 200).Select(i => _hv.Boot(idle, name: $"idle{i}", memoryKiB: 64)).ToArray();
        Assert.True(Eventually.Holds(() => domains.All(d => d.State == DomainState.Blocked)));
        // The hypervisor's own threads: in-process, the JIT's background tier-up would count too
        // (the kernel binary is NativeAOT; its whole-process figure is checked by the kernel tests).
        var before = ThreadTimes();
        var wall = Stopwatch.StartNew();
        Thread.Sleep(3000);
        var ticks = ThreadTimes().Where(t => t.Key.StartsWith("pcpu", StringComparison.Ordinal) || t.Key.StartsWith("kernel-timers", StringComparison.Ordinal))
            .Sum(t => t.Value - before.GetValueOrDefault(t.Key));
        var used = ticks * 10.0 / wall.Elapsed.TotalMilliseconds; // ticks are 10 ms (USER_HZ 100)
        Assert.True(used < 0.02, $"200 idle domains used {used:P1} of a host CPU in the hypervisor's threads");
    }

    private static Dictionary<string, long> ThreadTimes()
    {
        var times = new Dictionary<string, long>();
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')] + "/" + Path.GetFileName(dir);
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                times[name] = long.Parse(fields[11]) + long.Parse(fields[12]);
            }
            catch (IOException)
            {
            }
        }

        return times;
    }

    [Fact]
    public void WildHypercallsGetErrorsWhileOtherGuestsRunOn()
    {
        // An LCG feeds a0..a5 and the hypercall number; 20000 calls, then "survived".
        var p = new GuestProgram().Li(GuestProgram.S1, 20000).Li(GuestProgram.T2, 12345);
        var loop = p.Here;
        for (var r = 10; r <= 16; r++)
        {
            p.Li(GuestProgram.T0, 1103515245).Emit(Asm.Mul(GuestProgram.T2, GuestProgram.T2, GuestProgram.T0)).Emit(Asm.Addi(GuestProgram.T2, GuestProgram.T2, 1013))
             .Emit(Asm.Addi(r, GuestProgram.T2, 0));
        }

        p.Emit(Asm.I(0x13, GuestProgram.A6, 7, GuestProgram.A6, 63)); // andi a6, a6, 63: hypercall numbers 0..63
        p.Li(GuestProgram.A7, 0x0A58454E).Emit(Asm.Ecall);
        p.Emit(Asm.Addi(GuestProgram.S1, GuestProgram.S1, -1));
        p.Emit(Asm.Bne(GuestProgram.S1, 0, (int)((long)loop - (long)p.Here)));
        p.Print("survived\n").Shutdown();
        var bystander = _hv.Boot(Spin(), name: "bystander");
        var wild = _hv.Boot(p, name: "wild", memoryKiB: 1024);
        Assert.True(Eventually.Holds(() => wild.State is DomainState.Shutdown or DomainState.Crashed, 30), _hv.Dmesg());
        Assert.Contains($"(d{wild.Id}) survived", _hv.Dmesg(), StringComparison.Ordinal);
        Assert.DoesNotContain("BUG:", _hv.Dmesg(), StringComparison.Ordinal);
        Assert.Equal(DomainState.Running, bystander.State);
        var ran = bystander.Vcpus[0].Hart.InstructionsRetired;
        Assert.True(Eventually.Holds(() => bystander.Vcpus[0].Hart.InstructionsRetired > ran));
    }
}
