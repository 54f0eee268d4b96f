using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Fault.Tests;

/// <summary>The schedule is a function of the plan and its seed: reproducible, covering, and inside the run.</summary>
public sealed class FaultScheduleTests
{
    private static FaultPlan Plan(int seed, string every = "2s", string length = "60s") => new(
        FaultPlan.KnownTargets, FaultPlan.ParseKinds("kill,stop,segv,swap"), FaultPlan.ParseDuration(every), FaultPlan.ParseDuration(length), seed);

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
}
