using Disagg.Toolstack.Fault.Schedule;
using System.Globalization;
using Disagg.Toolstack.Cli;
using Spectre.Console;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>The terminal summary of a report: the verdict, per-service recovery, the workloads, and each invariant.</summary>
internal static class ReportTable
{
    public static void Print(FaultReport r, string? dir)
    {
        var console = Tables.Console();
        var verdict = r.Passed ? "[green]PASSED[/]" : "[red]FAILED[/]";
        console.MarkupLine($"fault run seed {r.Plan.Seed}: {verdict}: {r.Faults.Count(f => f.RecoveryMs is not null)}/{r.Faults.Count} faults injected and recovered in {Seconds(r.ElapsedMs)} s ({Markup.Escape(string.Join(",", r.Plan.Targets))}; {Markup.Escape(string.Join(",", r.Plan.Kinds.Select(k => k.Name())))} every {Seconds(r.Plan.EveryMs)} s)");

        var services = NewTable("Service", "Faults", "Recovered", "Median ms", "p99 ms", "Max ms", "Down ms");
        foreach (var s in r.Services)
        {
            services.AddRow(s.Name, N(s.Faults), N(s.Recovered), N(s.MedianRecoveryMs), N(s.P99RecoveryMs), N(s.MaxRecoveryMs), N(s.DowntimeMs));
        }

        console.Write(services);

        var work = NewTable("Workload", "Guest", "Figures");
        foreach (var p in r.Network)
        {
            work.AddRow("ping", Markup.Escape(p.Guest), $"{p.Received} replies, {p.Lost} lost in {p.Windows.Count} windows, longest {p.MaxWindowMs} ms; round trip median {p.MedianRttMs} ms, max {p.MaxRttMs} ms");
        }

        foreach (var s in r.Storage)
        {
            work.AddRow("blk-verify", Markup.Escape(s.Guest), $"{s.Passes} passes, {s.Mismatches} mismatches, {s.Errors} errors, {s.Reconnects} reconnects, {s.Reissued} re-issued");
        }

        work.AddRow("xenstore", "-", $"{r.Xenstore.Acknowledged} canaries acknowledged, {r.Xenstore.Checks} read-backs, {r.Xenstore.Unacknowledged} writes unanswered");
        if (r.Counters is { } c)
        {
            work.AddRow("host", "-", $"ports {c.Before.EventPorts}->{c.After.EventPorts}, grant maps {c.Before.GrantMaps}->{c.After.GrantMaps}, free {c.Before.FreeMemoryKiB / 1024} MiB->{c.After.FreeMemoryKiB / 1024} MiB");
        }

        console.Write(work);

        var invariants = NewTable("Invariant", "State", "Evidence");
        foreach (var i in r.Invariants)
        {
            invariants.AddRow(new Text(i.Name), new Markup(i.Holds ? "[green]holds[/]" : "[red]BROKEN[/]"), new Text(i.Evidence ?? ""));
        }

        console.Write(invariants);
        if (dir is not null)
        {
            console.WriteLine($"report: {Path.Combine(dir, ReportStore.HtmlName)} and {ReportStore.JsonName}");
        }
    }

    private static Table NewTable(params string[] headers)
    {
        var table = new Table { Border = TableBorder.Rounded };
        foreach (var h in headers)
        {
            table.AddColumn(new TableColumn(new Text(h, new Style(decoration: Decoration.Bold))));
        }

        return table;
    }

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.#", CultureInfo.InvariantCulture);
}
