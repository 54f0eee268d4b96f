using System.Globalization;
using Disagg.TestSupport;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Fault.Tests;

/// <summary>A host with the three real service domains that the fault runs below target.</summary>
public sealed class ServiceHost : IDisposable
{
    public ServiceHost() => Host = new TestHost("xenstored,netback,blkback");

    public TestHost Host { get; }

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// `disagg fault run` against real binaries: a short seeded run that kills and stops netback, blkback and
/// xenstored while its own guests ping and verify passes every invariant; a canary deleted behind the run's
/// back is caught and stops it with the evidence; the schedule comes from the seed alone.
/// </summary>
public sealed class FaultRunTests(ServiceHost fixture) : IClassFixture<ServiceHost>
{
    private TestHost Host => fixture.Host;

    private ProcessResult Fault(TimeSpan bound, params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["fault", .. args, "--state-dir", Host.Dir], bound);

    [Fact]
    public void AShortSeededRunOfKillsAndStopsPassesItsInvariants()
    {
        var dir = Path.Combine(Host.Dir, "report-kill-stop");

        // Bounds for a loaded 2-core CI machine: the point is that every invariant is checked and holds.
        var r = Fault(TimeSpan.FromMinutes(8), "run", "--targets", "netback,blkback,xenstored", "--faults", "kill,stop", "--every", "3s", "--for", "30s",
            "--seed", "7", "--report", dir, "--max-net-outage", "30s", "--heartbeat", "40s");
        Assert.True(r.ExitCode == 0, r.ToString());
        var report = ReportStore.Read(dir);
        Assert.True(report.Passed, r.StdOut);
        Assert.Equal(FaultSchedule.Build(report.Plan.ToPlan()), report.Schedule);
        Assert.Equal(report.Schedule.Count, report.Faults.Count);
        Assert.True(report.Faults.Count >= 6, $"{report.Faults.Count} faults");
        Assert.All(report.Faults, f => Assert.True(f.RecoveryMs is not null, $"fault {f.Index}: {f.Outcome}"));
        Assert.Equal(["netback", "blkback", "xenstored"], report.Services.Select(s => s.Name));
        Assert.All(report.Services, s => Assert.True(s.Faults > 0 && s.Recovered == s.Faults, s.ToString()));
        Assert.Equal(2, report.Network.Count);
        Assert.All(report.Network, p => Assert.True(p.Received > 20, p.ToString()));
        var blk = Assert.Single(report.Storage);
        Assert.True(blk.Passes > 0 && blk.Mismatches == 0 && blk.Errors == 0, blk.ToString());
        Assert.True(report.Xenstore.Acknowledged > 10 && report.Xenstore.Checks > 0, report.Xenstore.ToString());
        Assert.NotNull(report.Counters);
        Assert.Empty(report.Counters.Leaks);
        Assert.All(report.Invariants, i => Assert.True(i.Holds, i.ToString()));
        Assert.Contains("PASSED", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, ReportStore.HtmlName)), StringComparison.Ordinal);
        Console.WriteLine(r.StdOut);
        Assert.DoesNotContain(Host.Json("list").EnumerateArray(), d => d.GetProperty("name").GetString()!.StartsWith("fault-", StringComparison.Ordinal));
    }

    [Fact]
    public void SwapsAreInjectedAndTheServiceServesAgain()
    {
        var dir = Path.Combine(Host.Dir, "report-swap");
        var before = Host.Service("netback").GetProperty("swaps").GetInt32();
        var r = Fault(TimeSpan.FromMinutes(4), "run", "--targets", "netback", "--faults", "swap", "--every", "3s", "--for", "12s", "--seed", "3", "--report", dir, "--use-existing");
        Assert.True(r.ExitCode == 0, r.ToString());
        var report = ReportStore.Read(dir);
        Assert.Contains(report.Faults, f => f.Kind == FaultKind.Swap);
        Assert.All(report.Faults, f => Assert.True(f.RecoveryMs is not null && f.NewPid != f.OldPid, f.ToString()));
        Assert.True(Host.Service("netback").GetProperty("swaps").GetInt32() > before, "the swap went through the supervisor's swap path");
    }

    [Fact]
    public async Task ACanaryDeletedBehindTheRunsBackIsAViolationWithItsEvidence()
    {
        var dir = Path.Combine(Host.Dir, "report-canary");
        const string Canary = "/tool/disagg-fault/seed-11/2";
        var run = Task.Run(() => Fault(TimeSpan.FromMinutes(4), "run", "--targets", "blkback", "--faults", "stop", "--every", "2s", "--for", "60s", "--seed", "11", "--report", dir, "--use-existing"));
        Assert.True(Eventually.Holds(() => Host.XsRead(Canary) is not null || run.IsCompleted, 120), "the run wrote no canary");
        var rm = HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Host.Dir, "xenstored.sock")}", "xenstore-rm", Canary], TestHost.Bound);
        Assert.True(rm.ExitCode == 0, rm.ToString());

        var r = await run;
        Assert.True(r.ExitCode == 3, r.ToString());
        var report = ReportStore.Read(dir);
        Assert.False(report.Passed);
        Assert.NotNull(report.Violation);
        Assert.StartsWith("xenstore", report.Violation.Invariant, StringComparison.Ordinal);
        Assert.Contains($"{Canary} is gone", report.Violation.Evidence, StringComparison.Ordinal);
        Assert.True(report.ElapsedMs < 50_000, $"the violation stopped the run: it ran {report.ElapsedMs} ms");
        Assert.Contains("VIOLATION", r.StdOut, StringComparison.Ordinal);
        Assert.Null(Host.XsRead("/tool/disagg-fault/seed-11/0"));
    }

    [Fact]
    public void TheSameSeedPrintsTheSameScheduleWithoutAHost()
    {
        string[] args = ["fault", "run", "--dry-run", "--targets", "netback,xenstored", "--faults", "kill,stop,segv,swap", "--every", "1s", "--for", "20s"];
        var a = HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--seed", "123"], TimeSpan.FromSeconds(60));
        var b = HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--seed", "123"], TimeSpan.FromSeconds(60));
        var c = HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--seed", "124"], TimeSpan.FromSeconds(60));
        Assert.True(a.ExitCode == 0, a.ToString());
        Assert.Equal(a.StdOut, b.StdOut);
        Assert.NotEqual(a.StdOut, c.StdOut);
        var expected = FaultSchedule.Build(new FaultPlan(["netback", "xenstored"], FaultPlan.ParseKinds("kill,stop,segv,swap"), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20), 123));
        Assert.Contains(expected[^1].AtMs.ToString(CultureInfo.InvariantCulture), a.StdOut, StringComparison.Ordinal);
        Assert.Equal(expected.Count, a.StdOut.Split('\n').Count(l => l.Contains("netback", StringComparison.Ordinal) || l.Contains("xenstored", StringComparison.Ordinal)));
    }

    [Fact]
    public void BadArgumentsAreUsageErrors()
    {
        var r = Fault(TimeSpan.FromSeconds(60), "run", "--faults", "kill,melt");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown fault 'melt'", r.StdErr, StringComparison.Ordinal);
        var t = Fault(TimeSpan.FromSeconds(60), "run", "--targets", "qemu-dm");
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("unknown target 'qemu-dm'", t.StdErr, StringComparison.Ordinal);
    }
}
