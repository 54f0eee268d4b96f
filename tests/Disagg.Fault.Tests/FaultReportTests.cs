using Disagg.TestSupport;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Fault.Tests;

/// <summary>The report: written as JSON, read back whole, rendered to a self-contained page, and re-rendered by `disagg fault report`.</summary>
public sealed class FaultReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("disagg-fault-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static FaultReport Sample(bool broken)
    {
        var plan = new RunPlan(["netback", "xenstored"], [FaultKind.Kill, FaultKind.Stop], 2000, 20000, 7, false, 10000, 20000);
        var schedule = FaultSchedule.Build(plan.ToPlan());
        var faults = schedule.Select(s => new FaultOutcome(s.Index, s.AtMs + 3, s.Target, s.Kind, s.HoldMs, "recovered", 100 + s.Index, 200 + s.Index, s.Kind == FaultKind.Stop ? s.HoldMs : 150, s.Target == "netback" ? 12 : 0, 0)).ToList();
        return new FaultReport(
            FaultReport.CurrentVersion,
            DateTimeOffset.Parse("2026-12-06T22:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            21000,
            plan,
            schedule,
            faults,
            [new ServiceRecovery("netback", 4, 4, 150, 400, 400, 900), new ServiceRecovery("xenstored", 4, 4, 150, 300, 300, 700)],
            [new PingSummary("fault-net-a", 180, 12, 600, 80, [new LossWindow("fault-net-a", 2100, 2700, 6), new LossWindow("fault-net-a", 6100, 6700, 6)])],
            [new StorageSummary("fault-blk", 14, 0, 0, 3, 17, [])],
            new XenstoreSummary("/tool/disagg-fault/seed-7", 40, 2, 10, broken ? "/tool/disagg-fault/seed-7/3 is gone" : null),
            [new GuestSummary("fault-net-a", "ping", "-b----", 20900, null)],
            new CountersCheck(new HostCountersSnapshot(1, 3, 0, 0, 0, 131072), new HostCountersSnapshot(1, 3, 0, 0, 0, 131072), []),
            [new InvariantResult("xenstore: no acknowledged entry lost", !broken, broken ? "/tool/disagg-fault/seed-7/3 is gone" : null, broken ? 9000 : null)],
            broken ? new Violation("xenstore: no acknowledged entry lost", 9000, "/tool/disagg-fault/seed-7/3 is gone") : null);
    }

    [Fact]
    public void AReportReadsBackAsItWasWritten()
    {
        var report = Sample(broken: false);
        ReportStore.Write(_dir, report);
        var back = ReportStore.Read(_dir);
        Assert.Equal(ReportStore.ToJson(report), ReportStore.ToJson(back));
        Assert.True(back.Passed);
        Assert.Equal(report.Schedule, back.Schedule);
    }

    [Fact]
    public void ThePageIsSelfContainedWithATimeline()
    {
        var html = ReportHtml.Render(Sample(broken: true));
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("FAILED", html, StringComparison.Ordinal);
        Assert.Contains("/tool/disagg-fault/seed-7/3 is gone", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void FaultReportReRendersFromTheJsonAlone()
    {
        ReportStore.Write(_dir, Sample(broken: true));
        File.Delete(Path.Combine(_dir, ReportStore.HtmlName));
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["fault", "report", _dir], TimeSpan.FromSeconds(60));
        Assert.True(r.ExitCode == 3, r.ToString());
        Assert.Contains("FAILED", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("BROKEN", r.StdOut, StringComparison.Ordinal);
        Assert.Contains("netback", r.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, ReportStore.HtmlName)));

        ReportStore.Write(_dir, Sample(broken: false));
        var ok = HostProcess.Run(RepoPaths.Program("disagg"), ["fault", "report", _dir], TimeSpan.FromSeconds(60));
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("PASSED", ok.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderWithoutAReportIsAClearError()
    {
        File.WriteAllText(Path.Combine(_dir, ReportStore.JsonName), "{ not json");
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["fault", "report", _dir], TimeSpan.FromSeconds(60));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("not a fault report", r.StdErr, StringComparison.Ordinal);
        var missing = HostProcess.Run(RepoPaths.Program("disagg"), ["fault", "report", Path.Combine(_dir, "nothing")], TimeSpan.FromSeconds(60));
        Assert.Contains("no such file", missing.StdErr, StringComparison.Ordinal);
    }
}
