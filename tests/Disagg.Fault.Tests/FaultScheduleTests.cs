using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Fault.Tests;

/// <summary>The schedule is a function of the plan and its seed: reproducible, covering, and inside the run.</summary>
public sealed class FaultScheduleTests
{
    private static FaultPlan Plan(int seed, string every = "2s", string length = "60s") => new(
        ["netback", "blkback", "xenstored"], FaultPlan.ParseKinds("kill,stop,segv,swap"), FaultPlan.ParseDuration(every), FaultPlan.ParseDuration(length), seed);

    [Fact]
    public void TheSameSeedGivesTheSameSchedule()
    {
        var a = FaultSchedule.Build(Plan(42));
        var b = FaultSchedule.Build(Plan(42));
        Assert.Equal(a, b);
        Assert.NotEqual(a, FaultSchedule.Build(Plan(43)));
    }

    [Fact]
    public void EachRoundCoversEveryTargetAndFaultOnce()
    {
        var schedule = FaultSchedule.Build(Plan(5, "1s", "30s"));
        var round = schedule.Take(12).Select(f => (f.Target, f.Kind)).ToHashSet();
        Assert.Equal(12, round.Count);
    }

    [Fact]
    public void FaultsStayInsideTheRunAndStopsHoldWithinTheirBounds()
    {
        var plan = Plan(9);
        var schedule = FaultSchedule.Build(plan);
        Assert.NotEmpty(schedule);
        var every = (long)plan.Every.TotalMilliseconds;
        Assert.All(schedule, f => Assert.InRange(f.AtMs, every - (every / 4), (long)(plan.Duration - plan.Settle).TotalMilliseconds));
        Assert.True(schedule.Zip(schedule.Skip(1)).All(p => p.First.AtMs < p.Second.AtMs), "in time order");
        Assert.All(schedule.Where(f => f.Kind == FaultKind.Stop), f => Assert.InRange(f.HoldMs, 200, 1000));
        Assert.All(schedule.Where(f => f.Kind != FaultKind.Stop), f => Assert.Equal(0, f.HoldMs));
        Assert.Equal(Enumerable.Range(0, schedule.Count), schedule.Select(f => f.Index));
    }

    [Theory]
    [InlineData("kill,explode", "unknown fault 'explode'")]
    [InlineData(",", "names no fault")]
    public void BadFaultNamesAreRefusedByName(string text, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => FaultPlan.ParseKinds(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void BadTargetsDurationsAndPlansAreRefused()
    {
        Assert.Contains("unknown target 'qemu'", Assert.Throws<FormatException>(() => FaultPlan.ParseTargets("netback,qemu")).Message, StringComparison.Ordinal);
        Assert.Contains("not a duration", Assert.Throws<FormatException>(() => FaultPlan.ParseDuration("soon")).Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMinutes(10), FaultPlan.ParseDuration("10m"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), FaultPlan.ParseDuration("500ms"));
        Assert.Contains("at least 500 ms", Assert.Throws<FormatException>(() => FaultSchedule.Build(Plan(1, "100ms"))).Message, StringComparison.Ordinal);
        Assert.Contains("leaves no room", Assert.Throws<FormatException>(() => FaultSchedule.Build(Plan(1, "2s", "4s"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChannelFaultsAreScheduledOnlyOnTheServicesTheyApplyTo()
    {
        var all = string.Join(",", FaultKinds.All.Select(k => k.Name));
        var plan = new FaultPlan(["netback", "blkback", "xenstored"], FaultPlan.ParseKinds(all), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), 9);
        var pairs = FaultSchedule.Build(plan).Select(f => (f.Target, f.Kind)).ToHashSet();
        var applicable = plan.Targets.SelectMany(t => plan.Kinds.Where(k => FaultKinds.AppliesTo(k, t)).Select(k => (t, k))).ToHashSet();
        Assert.Equal(8 + 9 + 5, applicable.Count); // netback: 4 process + 4 channel; blkback: + disk-eio; xenstored: 4 process + journal-tear
        Assert.Subset(applicable, pairs);
        Assert.Superset(applicable, pairs); // a 60 s run every 2 s covers every applicable pair, and nothing else
        Assert.DoesNotContain(pairs, p => p.Kind == FaultKind.DiskEio && p.Target != "blkback");
        Assert.DoesNotContain(pairs, p => p.Kind == FaultKind.JournalTear && p.Target != "xenstored");
        Assert.DoesNotContain(pairs, p => p.Target == "xenstored" && p.Kind is FaultKind.RingDelay or FaultKind.RingDropNotify or FaultKind.RingSpuriousNotify or FaultKind.CopyError);
    }

    [Fact]
    public void AFaultThatAppliesToNoTargetIsRefusedNamingWhereItApplies()
    {
        var plan = new FaultPlan(["netback", "xenstored"], FaultPlan.ParseKinds("kill,disk-eio"), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30), 1);
        var e = Assert.Throws<FormatException>(plan.Validate);
        Assert.Contains("disk-eio applies to none of --targets netback,xenstored (disk-eio: blkback)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFaultNameParsesBackToItsKind()
    {
        Assert.Equal(Enum.GetValues<FaultKind>().Length, FaultKinds.All.Count);
        Assert.All(FaultKinds.All, k => Assert.Equal(k.Kind, FaultKinds.Parse(k.Name)));
        Assert.All(FaultKinds.All, k => Assert.Equal(k.Name, k.Kind.Name()));
        Assert.Null(FaultKinds.Parse("ring"));
        Assert.All(FaultKinds.All.Where(k => FaultKinds.IsChannelFault(k.Kind)), k => Assert.True(FaultKinds.Channel(k.Kind).Count > 0));
    }

    [Fact]
    public void QemuDmTargetsResolveByPrefixToTheHostsDeviceModels()
    {
        Assert.Equal(["qemu-dm-7"], FaultPlan.ParseTargets("qemu-dm-7"));
        Assert.Equal(["netback", "qemu-dm"], FaultPlan.ParseTargets("netback,qemu-dm"));
        Assert.Equal(["netback", "qemu-dm-12", "qemu-dm-7"], FaultPlan.Resolve(["netback", "qemu-dm"], ["xenstored", "netback", "qemu-dm-7", "qemu-dm-12"]));
        Assert.Equal(["qemu-dm-7"], FaultPlan.Resolve(["qemu-dm-7"], ["qemu-dm-7", "qemu-dm-12"]));
        var none = Assert.Throws<FormatException>(() => FaultPlan.Resolve(["qemu-dm"], ["xenstored", "netback"]));
        Assert.Contains("runs no qemu-dm service", none.Message, StringComparison.Ordinal);
        var gone = Assert.Throws<FormatException>(() => FaultPlan.Resolve(["qemu-dm-9"], ["qemu-dm-7"]));
        Assert.Contains("no service 'qemu-dm-9'", gone.Message, StringComparison.Ordinal);
        Assert.True(FaultKinds.AppliesTo(FaultKind.Kill, "qemu-dm-7"));
        Assert.False(FaultKinds.AppliesTo(FaultKind.DiskEio, "qemu-dm-7"));
        Assert.Throws<FormatException>(() => FaultPlan.ParseTargets("qemu"));
    }
}
