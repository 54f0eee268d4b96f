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
/// `disagg fault run` against real binaries on a normal host (the runs of every fault kind are ChannelFaultTests, on a
/// fault-injection host): channel faults are refused and no service listens for them; a swap is injected; a canary deleted behind the run's
/// back is caught and stops it with the evidence; the schedule comes from the seed alone.
/// </summary>
[Collection(FaultHosts.Name)]
public sealed class FaultRunTests(ServiceHost fixture) : IClassFixture<ServiceHost>
{
    private TestHost Host => fixture.Host;

    private ProcessResult Fault(TimeSpan bound, params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["fault", .. args, "--state-dir", Host.Dir], bound);

    [Fact]
    public void ANormalHostRefusesChannelFaultsAndItsServicesDoNotListenForThem()
    {
        var r = Host.Run("fault", "inject", "netback", "ring-drop-notify");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("started without --fault-injection", r.StdErr, StringComparison.Ordinal);
        var run = Fault(TimeSpan.FromSeconds(60), "run", "--targets", "blkback", "--faults", "kill,disk-eio", "--every", "2s", "--for", "10s", "--use-existing");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("needs a host started with `disagg host up --fault-injection`", run.StdErr, StringComparison.Ordinal);
        foreach (var service in new[] { "xenstored", "netback", "blkback" })
        {
            Assert.False(File.Exists(Path.Combine(Host.Dir, service, "fault.sock")), $"a normal host's {service} made a fault socket");
            Assert.DoesNotContain("fault injection is on", File.ReadAllText(Path.Combine(Host.Dir, service + ".log")), StringComparison.Ordinal);
            var pid = TestHost.Int(Host.Service(service), "pid");
            Assert.DoesNotContain("DISAGG_FAULT_SOCKET=", File.ReadAllText($"/proc/{pid}/environ"), StringComparison.Ordinal);
        }
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
        var t = Fault(TimeSpan.FromSeconds(60), "run", "--targets", "qemu");
        Assert.Equal(2, t.ExitCode);
        Assert.Contains("unknown target 'qemu'", t.StdErr, StringComparison.Ordinal);
        var n = Fault(TimeSpan.FromSeconds(60), "run", "--targets", "netback", "--faults", "journal-tear");
        Assert.Equal(2, n.ExitCode);
        Assert.Contains("journal-tear applies to none of --targets netback (journal-tear: xenstored)", n.StdErr, StringComparison.Ordinal);
        var q = Fault(TimeSpan.FromSeconds(60), "run", "--targets", "qemu-dm", "--faults", "kill", "--use-existing");
        Assert.NotEqual(0, q.ExitCode);
        Assert.Contains("runs no qemu-dm service", q.StdErr, StringComparison.Ordinal);
    }
}
