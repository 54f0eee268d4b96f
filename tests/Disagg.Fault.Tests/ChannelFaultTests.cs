using System.Text.RegularExpressions;
using Disagg.TestSupport;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;
using Disagg.Toolstack.Host;

namespace Disagg.Fault.Tests;

/// <summary>A test host started with fault injection (host.conf `fault_injection = on`, as `host up --fault-injection`).</summary>
public sealed class InjectionHost : IDisposable
{
    public InjectionHost() => Host = new TestHost("xenstored,netback,blkback", "fault_injection = on");

    public TestHost Host { get; }

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// Channel faults and real segmentation faults on a fault-injection host, against the real binaries: an injected EIO reaches the guest as an error for
/// that request and blk-verify finds nothing corrupted; a torn journal write kills xenstored and its restart keeps the
/// journal's valid prefix; an injected segv is a real crash the supervisor restarts; a service refuses a fault it
/// cannot inject.
/// </summary>
[Collection(FaultHosts.Name)]
public sealed partial class ChannelFaultTests(InjectionHost fixture) : IClassFixture<InjectionHost>
{
    private TestHost Host => fixture.Host;

    private ProcessResult Fault(TimeSpan bound, params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["fault", .. args, "--state-dir", Host.Dir], bound);

    [Fact]
    public void AnInjectedEioFailsThatWriteForTheGuestAndCorruptsNothing()
    {
        var dir = Path.Combine(Host.Dir, "report-eio");
        var r = Fault(TimeSpan.FromMinutes(6), "run", "--targets", "blkback", "--faults", "disk-eio", "--every", "2s", "--for", "14s",
            "--seed", "5", "--report", dir, "--max-net-outage", "30s", "--heartbeat", "40s");
        Assert.True(r.ExitCode == 0, r.ToString());
        var report = ReportStore.Read(dir);
        var blk = Assert.Single(report.Storage);
        var injected = report.Faults.Count(f => f.Kind == FaultKind.DiskEio);
        Assert.True(injected >= 3, $"{injected} EIOs injected");
        Assert.True(blk.Errors >= 1 && blk.Errors <= injected && blk.Mismatches == 0, $"{blk} ({injected} injected)");
        Assert.Contains(blk.Evidence, l => WriteFailed().IsMatch(l)); // the guest saw the write fail
        Assert.DoesNotContain(blk.Evidence, l => l.Contains("MISMATCH", StringComparison.Ordinal) || l.Contains("read of sector", StringComparison.Ordinal));
        Assert.All(report.Faults, f => Assert.Contains("disk-eio x1 armed", f.Outcome, StringComparison.Ordinal));
        Assert.True(report.Passed, r.StdOut);
    }

    [Fact]
    public void ATornJournalWriteKillsXenstoredAndItsRestartKeepsTheValidPrefix()
    {
        Assert.Equal(0, XsWrite("/tool/tear/kept", "before").ExitCode);
        var pid = TestHost.Int(Host.Service("xenstored"), "pid");
        var armed = Host.MustRun("fault", "inject", "xenstored", "journal-tear");
        Assert.Contains("journal-tear x1 armed", armed.StdOut, StringComparison.Ordinal);
        XsWrite("/tool/tear/torn", "during"); // this write, or a backend's, is the one torn: it gets no reply
        Assert.True(Eventually.Holds(() => Host.Service("xenstored") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "pid") != pid, 60), "xenstored was not restarted");
        var log = File.ReadAllText(Path.Combine(Host.Dir, "xenstored.log"));
        Assert.Contains("journal write torn", log, StringComparison.Ordinal);
        Assert.Matches(TornDropped(), log); // the replay dropped the torn tail, and only it
        Assert.True(Eventually.Holds(() => Host.XsRead("/tool/tear/kept") == "before", 30), "an acknowledged write before the tear was lost");
        Assert.True(Eventually.Holds(() => XsWrite("/tool/tear/after", "works").ExitCode == 0, 30), "the restarted xenstored takes no writes");
        Assert.Equal("works", Host.XsRead("/tool/tear/after"));
    }

    [Fact]
    public void AnInjectedSegvIsARealCrashTheSupervisorRestarts()
    {
        var before = Host.Service("blkback");
        var pid = TestHost.Int(before, "pid");
        Host.MustRun("fault", "inject", "blkback", "segv");
        Assert.True(Eventually.Holds(() => Host.Service("blkback") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "pid") != pid, 60), "blkback did not die and come back");
        Assert.Contains("signal 11", Host.Service("blkback").GetProperty("last_exit").GetString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The same crash in a NativeAOT service: its runtime's SIGSEGV handler claims only faults in managed code, so the
    /// fault in libc's memset kills it as a JIT service is killed (a SIGSEGV sent with kill() does not: see
    /// docs/FAULT-INJECTION.md). Runs where the host runs out/aot, after `make publish`.
    /// </summary>
    [NativeAotFact]
    public void AnInjectedSegvKillsANativeAotServiceAndTheSupervisorRestartsIt()
    {
        var aot = ProgramChoice.CurrentNativeAot(RepoPaths.Bin, out _)!;
        var before = Host.Service("netback");
        var pid = TestHost.Int(before, "pid");
        AssertNativeAot(before, aot);
        Host.MustRun("fault", "inject", "netback", "segv");
        Assert.True(Eventually.Holds(() => Host.Service("netback") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "pid") != pid, 60), "netback did not die and come back");
        var after = Host.Service("netback");
        Assert.Contains("signal 11", after.GetProperty("last_exit").GetString(), StringComparison.Ordinal);
        AssertNativeAot(after, aot);
    }

    [Fact]
    public void AServiceRefusesAFaultItCannotInject()
    {
        var r = Host.Run("fault", "inject", "netback", "disk-eio");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("cannot inject DiskEio", r.StdErr, StringComparison.Ordinal);
        var bad = Host.Run("fault", "inject", "netback", "kill");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not a channel fault", bad.StdErr, StringComparison.Ordinal);
    }

    /// <summary>The service runs the program in out/aot, a native executable: no managed assembly of its name beside it.</summary>
    private static void AssertNativeAot(System.Text.Json.JsonElement service, string aot)
    {
        var program = service.GetProperty("program").GetString()!;
        Assert.Equal(aot, Path.GetDirectoryName(program));
        Assert.False(File.Exists(program + ".dll"), $"{program} is a JIT apphost");
    }

    private ProcessResult XsWrite(string path, string value) =>
        HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Host.Dir, "xenstored.sock")}", "xenstore-write", path, value], TestHost.Bound);

    [GeneratedRegex(@"blk-verify: write of sector \d+ failed")]
    private static partial Regex WriteFailed();

    [GeneratedRegex(@"[1-9]\d* torn bytes dropped")]
    private static partial Regex TornDropped();
}

/// <summary>Hosts of this assembly run one at a time: a fault run's timing bounds assume it has the machine's share to itself.</summary>
[CollectionDefinition(FaultHosts.Name)]
public sealed class FaultHosts
{
    public const string Name = "fault hosts";
}

/// <summary>The seeded run `make test` keeps: 60 s of every fault kind on every target of a fault-injection host, zero violations.</summary>
[Collection(FaultHosts.Name)]
public sealed class EveryFaultRunTests(InjectionHost fixture) : IClassFixture<InjectionHost>
{
    private TestHost Host => fixture.Host;

    private ProcessResult Fault(TimeSpan bound, params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["fault", .. args, "--state-dir", Host.Dir], bound);

    [Fact]
    public void ASixtySecondSeededRunOfEveryFaultOnEveryTargetPassesItsInvariants()
    {
        var dir = Path.Combine(Host.Dir, "report-all");
        var all = string.Join(",", FaultKinds.All.Select(k => k.Name));

        // Bounds for a loaded 2-core CI machine: the point is that every invariant is checked and holds.
        var r = Fault(TimeSpan.FromMinutes(10), "run", "--targets", "netback,blkback,xenstored", "--faults", all, "--every", "2s", "--for", "60s",
            "--seed", "7", "--report", dir, "--max-net-outage", "30s", "--heartbeat", "40s");
        Assert.True(r.ExitCode == 0, r.ToString());
        var report = ReportStore.Read(dir);
        Assert.True(report.Passed, r.StdOut);
        Assert.Equal(FaultSchedule.Build(report.Plan.ToPlan()), report.Schedule);
        Assert.Equal(report.Schedule.Count, report.Faults.Count);
        var pairs = report.Faults.Select(f => (f.Target, f.Kind)).ToHashSet();
        Assert.Equal(8 + 9 + 5, pairs.Count); // every fault that applies, on every target
        // A target still restarting from the last fault is waited for 5 s, then the fault is skipped (a loaded host).
        // A swap whose new process refused to start is the supervisor's to report (it went back to the old binary, which
        // serves on): not a fault that took effect.
        string[] notInjected = ["skipped", "not injected", "swap failed"];
        var injected = report.Faults.Where(f => !notInjected.Any(p => f.Outcome.StartsWith(p, StringComparison.Ordinal))).ToList();
        Assert.True(injected.Count >= report.Faults.Count * 3 / 4, $"{injected.Count} of {report.Faults.Count} injected");
        Assert.All(injected, f => Assert.True(f.RecoveryMs is not null, $"fault {f.Index}: {f.Outcome}"));
        Assert.All(injected.Where(f => f.Kind is FaultKind.Kill or FaultKind.Segv or FaultKind.Swap or FaultKind.JournalTear),
            f => Assert.True(f.NewPid != f.OldPid, $"fault {f.Index} ({f.Kind}) restarted {f.Target}: {f.Outcome}"));
        Assert.All(injected.Where(f => f.Kind is FaultKind.RingDelay or FaultKind.RingDropNotify or FaultKind.RingSpuriousNotify or FaultKind.CopyError or FaultKind.DiskEio),
            f => Assert.Contains("armed", f.Outcome, StringComparison.Ordinal));
        Assert.Equal(["netback", "blkback", "xenstored"], report.Services.Select(s => s.Name));
        Assert.Equal(2, report.Network.Count);
        Assert.All(report.Network, p => Assert.True(p.Received > 40, p.ToString()));
        var blk = Assert.Single(report.Storage);
        var injectedErrors = injected.Count(f => f.Target == "blkback" && f.Kind is FaultKind.DiskEio or FaultKind.CopyError);
        Assert.True(blk.Passes > 0 && blk.Mismatches == 0 && blk.Errors <= injectedErrors, $"{blk} ({injectedErrors} injected)");
        Assert.True(report.Xenstore.Acknowledged > 20 && report.Xenstore.Checks > 0 && report.Xenstore.Evidence is null, report.Xenstore.ToString());
        Assert.NotNull(report.Counters);
        Assert.Empty(report.Counters.Leaks);
        Assert.All(report.Invariants, i => Assert.True(i.Holds, i.ToString()));
        Assert.Contains("journal write torn", File.ReadAllText(Path.Combine(Host.Dir, "xenstored.log")), StringComparison.Ordinal);
        Console.WriteLine(r.StdOut);
    }
}
