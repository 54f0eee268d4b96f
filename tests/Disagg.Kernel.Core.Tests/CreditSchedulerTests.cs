using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Tests;

public class CreditSchedulerTests
{
    private const long Ms = 1_000_000;
    private const long Second = 1000 * Ms;

    private static double Share(SchedulerSimulation sim, SchedVcpu v, long over) => (double)sim.Scheduler.RunTimeNs(v) / over;

    [Fact]
    public void WeightsSplitOnePcpuInProportion()
    {
        var sim = new SchedulerSimulation(1);
        var a = sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0);
        var b = sim.AddVcpu(sim.Scheduler.AddDomain(2, 512, 0), 0);
        sim.Scheduler.Unpause(a);
        sim.Scheduler.Unpause(b);
        sim.RunFor(10 * Second);

        var ratio = (double)sim.Scheduler.RunTimeNs(b) / sim.Scheduler.RunTimeNs(a);
        Assert.InRange(ratio, 2 * 0.95, 2 * 1.05);
        Assert.InRange(Share(sim, a, 10 * Second) + Share(sim, b, 10 * Second), 0.999, 1.0001);
    }

    [Fact]
    public void CapHoldsADomainBelowItsPercentEvenOnAnIdleHost()
    {
        var sim = new SchedulerSimulation(1);
        var d = sim.Scheduler.AddDomain(1, 256, 25);
        var v = sim.AddVcpu(d, 0);
        sim.Scheduler.Unpause(v);
        sim.RunFor(10 * Second);
        // 10 s is 333 periods and a third: the last, partial period may use its whole 7.5 ms.
        Assert.InRange(Share(sim, v, 10 * Second), 0.24, 0.2506);
    }

    [Fact]
    public void CapAppliesToTheWholeDomainAcrossPcpus()
    {
        var sim = new SchedulerSimulation(2);
        var d = sim.Scheduler.AddDomain(1, 256, 50);
        var v0 = sim.AddVcpu(d, 0);
        var v1 = sim.AddVcpu(d, 1);
        sim.Scheduler.Unpause(v0);
        sim.Scheduler.Unpause(v1);
        sim.RunFor(10 * Second);
        // As above: the window ends a third into a period whose 15 ms budget may all be used.
        Assert.InRange(Share(sim, v0, 10 * Second) + Share(sim, v1, 10 * Second), 0.48, 0.5011);
    }

    [Fact]
    public void AnUncontendedDomainGetsAWholePcpuWhateverItsWeight()
    {
        var sim = new SchedulerSimulation(1);
        var v = sim.AddVcpu(sim.Scheduler.AddDomain(1, 1, 0), 0);
        sim.Scheduler.Unpause(v);
        sim.RunFor(2 * Second);
        Assert.InRange(Share(sim, v, 2 * Second), 0.999, 1.0001);
    }

    [Fact]
    public void EqualVcpusShareTwoPcpus()
    {
        var sim = new SchedulerSimulation(2);
        var vs = Enumerable.Range(1, 3).Select(i => sim.AddVcpu(sim.Scheduler.AddDomain(i, 256, 0), 0)).ToArray();
        foreach (var v in vs)
        {
            sim.Scheduler.Unpause(v);
        }

        sim.RunFor(10 * Second);
        foreach (var v in vs)
        {
            Assert.InRange(Share(sim, v, 10 * Second), 2.0 / 3 * 0.95, 2.0 / 3 * 1.05);
        }
    }

    [Fact]
    public void HardAffinityIsNeverViolated()
    {
        var sim = new SchedulerSimulation(2);
        var pinned = new[] { sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0, affinity: 0b10), sim.AddVcpu(sim.Scheduler.AddDomain(2, 256, 0), 0, affinity: 0b10) };
        var free = sim.AddVcpu(sim.Scheduler.AddDomain(3, 256, 0), 0);
        foreach (var v in pinned.Append(free))
        {
            sim.Scheduler.Unpause(v);
        }

        for (var i = 0; i < 2000; i++)
        {
            sim.RunFor(Ms);
            foreach (var v in pinned)
            {
                Assert.True(v.State != VcpuRunState.Running || v.Pcpu == 1, $"vcpu of domain {v.Domain.DomainId} ran on pCPU {v.Pcpu}");
            }
        }

        // pCPU 1 is shared by the two pinned vCPUs; the free one has pCPU 0 to itself.
        Assert.InRange(Share(sim, free, 2 * Second), 0.95, 1.0001);
        Assert.InRange(Share(sim, pinned[0], 2 * Second), 0.45, 0.55);
    }

    [Fact]
    public void BlockedAndPausedVcpusCostNothingAndIdlePcpusSleep()
    {
        var sim = new SchedulerSimulation(2);
        var vs = Enumerable.Range(1, 200).Select(i => sim.AddVcpu(sim.Scheduler.AddDomain(i, 256, 0), 0)).ToArray();
        foreach (var v in vs.Take(100))
        {
            sim.Scheduler.Unpause(v);
            sim.Scheduler.Block(v);
        }

        var before = sim.Decisions;
        sim.RunFor(10 * Second);
        Assert.True(sim.Decisions - before <= 4, $"{sim.Decisions - before} scheduling decisions on an idle host");
        Assert.All(vs, v => Assert.Equal(0, sim.Scheduler.RunTimeNs(v)));
    }

    [Fact]
    public void WakingABlockedVcpuKicksAnIdlePcpuAtOnce()
    {
        var sim = new SchedulerSimulation(1);
        var v = sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0);
        sim.Scheduler.Unpause(v);
        sim.Scheduler.Block(v);
        sim.RunFor(Second);
        var kicks = sim.Kicks;
        sim.Scheduler.Wake(v);
        Assert.True(sim.Kicks > kicks);
        sim.RunFor(Ms);
        Assert.Equal(VcpuRunState.Running, v.State);
    }

    [Fact]
    public void AnIoBoundVcpuWakesAheadOfACpuHog()
    {
        // A vCPU that runs 100 us then sleeps 1 ms gets nearly all the CPU it asks for, promptly.
        var sim = new SchedulerSimulation(1);
        var hog = sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0);
        var io = sim.AddVcpu(sim.Scheduler.AddDomain(2, 256, 0), 0, burstNs: Ms / 10, sleepNs: Ms);
        sim.Scheduler.Unpause(hog);
        sim.Scheduler.Unpause(io);
        sim.RunFor(5 * Second);
        var ioShare = Share(sim, io, 5 * Second);
        Assert.InRange(ioShare, 0.085, 0.095); // 100 us out of every 1.1 ms
    }

    [Fact]
    public void PauseTakesARunningVcpuOffItsPcpuAndUnpauseResumesIt()
    {
        var sim = new SchedulerSimulation(1);
        var v = sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0);
        sim.Scheduler.Unpause(v);
        sim.RunFor(Second);
        Assert.True(sim.Scheduler.IsOnCpu(v));
        sim.Scheduler.Pause(v);
        sim.RunFor(Ms);
        Assert.False(sim.Scheduler.IsOnCpu(v));
        var ran = sim.Scheduler.RunTimeNs(v);
        sim.RunFor(Second);
        Assert.Equal(ran, sim.Scheduler.RunTimeNs(v));
        Assert.Equal(VcpuRunState.Paused, v.State);

        sim.Scheduler.Unpause(v);
        sim.RunFor(Second);
        Assert.True(sim.Scheduler.RunTimeNs(v) > ran + Second * 9 / 10);
    }

    [Fact]
    public void PauseWhileBlockedStaysPausedAfterAWake()
    {
        var sim = new SchedulerSimulation(1);
        var v = sim.AddVcpu(sim.Scheduler.AddDomain(1, 256, 0), 0);
        sim.Scheduler.Unpause(v);
        sim.Scheduler.Block(v);
        sim.Scheduler.Pause(v);
        sim.Scheduler.Wake(v);
        sim.RunFor(Second);
        Assert.Equal(0, sim.Scheduler.RunTimeNs(v));
        sim.Scheduler.Unpause(v);
        sim.RunFor(Second);
        Assert.True(sim.Scheduler.RunTimeNs(v) > 0);
    }

    [Fact]
    public void RemovedVcpuLeavesItsPcpuAndNeverRunsAgain()
    {
        var sim = new SchedulerSimulation(1);
        var d = sim.Scheduler.AddDomain(1, 256, 0);
        var v = sim.AddVcpu(d, 0);
        var other = sim.AddVcpu(sim.Scheduler.AddDomain(2, 256, 0), 0);
        sim.Scheduler.Unpause(v);
        sim.Scheduler.Unpause(other);
        sim.RunFor(Second);
        sim.Scheduler.Remove(v);
        sim.RunFor(20 * Ms);
        Assert.False(sim.Scheduler.IsOnCpu(v));
        var ran = sim.Scheduler.RunTimeNs(v);
        sim.RunFor(Second);
        Assert.Equal(ran, sim.Scheduler.RunTimeNs(v));
        Assert.Empty(d.Vcpus);
    }

    [Fact]
    public void ChangingWeightTakesEffect()
    {
        var sim = new SchedulerSimulation(1);
        var da = sim.Scheduler.AddDomain(1, 256, 0);
        var a = sim.AddVcpu(da, 0);
        var b = sim.AddVcpu(sim.Scheduler.AddDomain(2, 256, 0), 0);
        sim.Scheduler.Unpause(a);
        sim.Scheduler.Unpause(b);
        sim.RunFor(2 * Second);
        sim.Scheduler.SetParams(da, 768, 0);
        var (a0, b0) = (sim.Scheduler.RunTimeNs(a), sim.Scheduler.RunTimeNs(b));
        sim.RunFor(10 * Second);
        var ratio = (double)(sim.Scheduler.RunTimeNs(a) - a0) / (sim.Scheduler.RunTimeNs(b) - b0);
        Assert.InRange(ratio, 3 * 0.93, 3 * 1.07);
    }

    [Fact]
    public void BadParametersAreRefused()
    {
        var sim = new SchedulerSimulation(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Scheduler.AddDomain(1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Scheduler.AddDomain(1, 70000, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Scheduler.AddDomain(1, 256, -1));
        var d = sim.Scheduler.AddDomain(1, 256, 0);
        Assert.Throws<ArgumentException>(() => sim.Scheduler.AddVcpu(d, 0, 0b100));
    }
}
