using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Core.Tests;

/// <summary>The credit scheduler's promises, with real harts on real pCPU threads.</summary>
[Collection(RealHypervisorCollection.Name)]
public sealed class SchedulingOnRealThreadsTests : IDisposable
{
    private readonly HypervisorFixture _hv = new(pcpus: 1);

    public void Dispose() => _hv.Dispose();

    private static GuestProgram Spin() => new GuestProgram().Emit(Asm.Addi(GuestProgram.T0, GuestProgram.T0, 1)).JumpBack(1);

    [Fact]
    public void Weights256And512SplitOnePcpuOneToTwo()
    {
        var a = _hv.Boot(Spin(), name: "w256", weight: 256);
        var b = _hv.Boot(Spin(), name: "w512", weight: 512);
        Thread.Sleep(300); // let both settle into the accounting periods
        var (a0, b0) = (a.CpuTimeNs, b.CpuTimeNs);
        Thread.Sleep(3000);
        var ratio = (double)(b.CpuTimeNs - b0) / (a.CpuTimeNs - a0);
        Assert.InRange(ratio, 2 * 0.9, 2 * 1.1);
    }

    [Fact]
    public void ACapOf25HoldsADomainToAQuarterOfAPcpu()
    {
        var d = _hv.Boot(Spin(), name: "capped", cap: 25);
        Thread.Sleep(300);
        var t0 = d.CpuTimeNs;
        var wall = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(3000);
        var share = (d.CpuTimeNs - t0) / (wall.Elapsed.TotalMilliseconds * 1e6);
        // The cap is the promise (at most 25 %); the floor only says the domain was not starved.
        Assert.InRange(share, 0.05, 0.255);
    }
}
