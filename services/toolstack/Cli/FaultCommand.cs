using System.CommandLine;
using System.Globalization;
using Disagg.Toolstack.Fault;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Toolstack.Cli;

/// <summary>`disagg fault run|report`: a seeded chaos run against the service domains, its invariants and its report.</summary>
internal static class FaultCommand
{
    /// <summary>Exit code of a run that found a violation (the report says which and why).</summary>
    public const int ViolationExit = 3;

    public static Command Build() => new("fault", "fault injection: kill, stop, crash and swap service domains on a seeded schedule while guests work, and check what survived")
    {
        Run(),
        Report(),
        Inject(),
    };

    /// <summary>`disagg fault inject NAME KIND [--count N] [--delay-ms D]`: one channel fault, now, on a --fault-injection host.</summary>
    private static Command Inject()
    {
        var name = new Argument<string>("service") { Description = "the service (netback, blkback, xenstored, ...)" };
        var kind = new Argument<string>("fault") { Description = "ring-delay, ring-drop-notify, ring-spurious-notify, copy-error, disk-eio, journal-tear or segv (a real fault inside the service)" };
        var count = new Option<int>("--count") { Description = "how many (each fires on the next matching operation)", DefaultValueFactory = _ => 1 };
        var delay = new Option<int>("--delay-ms") { Description = "how long a ring-delay holds each notification back", DefaultValueFactory = _ => 100 };
        var command = new Command("inject", "arm a channel fault in a running service; only a host started with `host up --fault-injection` accepts it") { name, kind, count, delay };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            var text = parse.GetValue(kind)!;
            var parsed = FaultKinds.Parse(text) is { } k && (FaultKinds.IsChannelFault(k) || k == FaultKind.Segv) ? FaultKinds.Channel(k).Kind
                : throw CliException.Usage($"'{text}' is not a channel fault (ring-delay, ring-drop-notify, ring-spurious-notify, copy-error, disk-eio, journal-tear, segv)");
            if (parse.GetValue(count) is < 1 or > 1000)
            {
                throw CliException.Usage("--count: 1..1000");
            }

            Console.WriteLine(await new HostLink(Verb.State(parse)).InjectAsync(parse.GetValue(name)!, parsed, parse.GetValue(count), parse.GetValue(delay), cancel).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Run()
    {
        var targets = new Option<string>("--targets") { Description = "services to fault, comma-separated (netback, blkback, xenstored; qemu-dm: every HVM guest's device model, or qemu-dm-DOMID)", DefaultValueFactory = _ => "netback,blkback,xenstored" };
        var faults = new Option<string>("--faults") { Description = "fault kinds, comma-separated: kill (SIGKILL), stop (SIGSTOP, SIGCONT later), segv (a real fault inside the service on a --fault-injection host; elsewhere SIGSEGV sent with kill(), which a JIT service survives), swap (service swap to the same binary); on a host started with --fault-injection also the channel faults ring-delay, ring-drop-notify, ring-spurious-notify, copy-error (netback, blkback), disk-eio (blkback), journal-tear (xenstored)", DefaultValueFactory = _ => "kill,stop,swap" };
        var every = new Option<string>("--every") { Description = "interval between faults (e.g. 2s, 500ms)", DefaultValueFactory = _ => "2s" };
        var length = new Option<string>("--for") { Description = "how long the run lasts (e.g. 60s, 10m)", DefaultValueFactory = _ => "60s" };
        var seed = new Option<int?>("--seed") { Description = "the schedule's seed (default: from the clock; the report names it, so the run can be repeated)" };
        var report = new Option<string?>("--report") { Description = "folder for report.json and report.html (default: ./fault-report-SEED)" };
        var existing = new Option<bool>("--use-existing") { Description = "watch the host's guests instead of starting the workload guests (ping pair, blk-verify)" };
        var kernel = new Option<string?>("--guest-kernel") { Description = "the pvos ELF for the workload guests (default: guests/build/rv64/pvos.elf of this build)" };
        var netBound = new Option<string>("--max-net-outage") { Description = "longest loss window a pinging guest may see (the network invariant)", DefaultValueFactory = _ => "10s" };
        var heartbeat = new Option<string>("--heartbeat") { Description = "longest a guest's console may stay silent", DefaultValueFactory = _ => "20s" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the schedule the seed gives and exit (no host needed)" };
        var command = new Command("run", "a seeded fault run; exits 3 when an invariant broke (the report has the evidence)") { targets, faults, every, length, seed, report, existing, kernel, netBound, heartbeat, dryRun };
        Verb.SetAction(command, async (parse, cancel) =>
        {
            FaultPlan plan;
            TimeSpan maxNet, beat;
            try
            {
                plan = new FaultPlan(
                    FaultPlan.ParseTargets(parse.GetValue(targets)!),
                    FaultPlan.ParseKinds(parse.GetValue(faults)!),
                    FaultPlan.ParseDuration(parse.GetValue(every)!),
                    FaultPlan.ParseDuration(parse.GetValue(length)!),
                    parse.GetValue(seed) ?? (int)(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 1_000_000));
                plan.Validate();
                maxNet = FaultPlan.ParseDuration(parse.GetValue(netBound)!);
                beat = FaultPlan.ParseDuration(parse.GetValue(heartbeat)!);
            }
            catch (FormatException e)
            {
                throw new CliException(e.Message, ExitCodes.Usage);
            }

            if (parse.GetValue(dryRun))
            {
                PrintSchedule(plan);
                return 0;
            }

            var dir = Path.GetFullPath(parse.GetValue(report) ?? $"fault-report-{plan.Seed.ToString(CultureInfo.InvariantCulture)}");
            var options = new FaultRunOptions(plan, dir, parse.GetValue(existing), parse.GetValue(kernel) is { } k ? Path.GetFullPath(k) : null, maxNet, beat);
            var result = await new FaultRunner(new HostLink(Verb.State(parse)), options, Console.Out).RunAsync(cancel).ConfigureAwait(false);
            ReportStore.Write(dir, result);
            ReportTable.Print(result, dir);
            return result.Passed ? 0 : ViolationExit;
        });
        return command;
    }

    private static void PrintSchedule(FaultPlan plan)
    {
        var schedule = FaultSchedule.Build(plan);
        Console.WriteLine($"schedule of seed {plan.Seed}: {schedule.Count} faults in {plan.Duration.TotalSeconds:0.#} s");
        Tables.Print(
            ["#", "At(ms)", "Target", "Fault", "Hold(ms)"],
            schedule.Select(f => (IReadOnlyList<string>)
            [
                f.Index.ToString(CultureInfo.InvariantCulture),
                f.AtMs.ToString(CultureInfo.InvariantCulture),
                f.Target,
                f.Kind.Name(),
                f.HoldMs.ToString(CultureInfo.InvariantCulture),
            ]),
            new HashSet<int> { 0, 1, 4 });
    }

    private static Command Report()
    {
        var dir = new Argument<string>("DIR") { Description = "a fault run's report folder (holds report.json)" };
        var command = new Command("report", "render a fault run's report again from its report.json: the summary here, report.html beside it") { dir };
        Verb.SetAction(command, (parse, _) =>
        {
            var path = Path.GetFullPath(parse.GetValue(dir)!);
            FaultReport r;
            try
            {
                r = ReportStore.Read(path);
            }
            catch (FormatException e)
            {
                throw new CliException(e.Message);
            }

            ReportStore.Write(path, r);
            ReportTable.Print(r, path);
            return Task.FromResult(r.Passed ? 0 : ViolationExit);
        });
        return command;
    }
}
