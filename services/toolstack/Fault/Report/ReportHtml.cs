using Disagg.Toolstack.Fault.Schedule;
using System.Globalization;
using System.Text;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>
/// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) that shows the verdict,
/// the timeline, the invariants with their evidence, per-service recovery, the workloads and the schedule.
/// </summary>
public static class ReportHtml
{
    public static string Render(FaultReport r)
    {
        var h = new StringBuilder();
        var esc = TimelineSvg.Esc;
        h.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Disagg fault run, seed ")
            .Append(r.Plan.Seed.ToString(CultureInfo.InvariantCulture))
            .Append("</title><style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
                + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}th{background:#eee}.ok{color:#2a7d3f;font-weight:bold}"
                + ".bad{color:#c00;font-weight:bold}code{background:#f4f4f4;padding:1px 3px}</style></head><body>");
        h.Append(CultureInfo.InvariantCulture, $"<h1>Fault run, seed {r.Plan.Seed}: <span class=\"{(r.Passed ? "ok\">PASSED" : "bad\">FAILED")}</span></h1>");
        h.Append(CultureInfo.InvariantCulture, $"<p>Started {esc(r.StartedAt.ToString("u", CultureInfo.InvariantCulture))}, ran {r.ElapsedMs / 1000.0:0.0} s of {r.Plan.DurationMs / 1000.0:0.0} s. Targets <code>{esc(string.Join(",", r.Plan.Targets))}</code>, faults <code>{esc(string.Join(",", r.Plan.Kinds.Select(k => k.Name())))}</code> every {r.Plan.EveryMs} ms; {(r.Plan.UseExisting ? "existing guests" : "its own workload guests")}. Re-run: <code>disagg fault run --targets {esc(string.Join(",", r.Plan.Targets))} --faults {esc(string.Join(",", r.Plan.Kinds.Select(k => k.Name())))} --every {r.Plan.EveryMs}ms --for {r.Plan.DurationMs}ms --seed {r.Plan.Seed}</code></p>");
        if (r.Violation is { } v)
        {
            h.Append(CultureInfo.InvariantCulture, $"<p class=\"bad\">Stopped at {v.AtMs} ms: {esc(v.Invariant)}: {esc(v.Evidence)}</p>");
        }

        h.Append("<h2>Timeline</h2>").Append(TimelineSvg.Render(r))
            .Append("<p>Red: a service down from its fault until it served again; orange: stopped (SIGSTOP until SIGCONT); purple: pings lost; blue numbers: requests re-issued. K kill, S stop, V segv, W swap.</p>");

        h.Append("<h2>Invariants</h2>");
        Table(h, ["Invariant", "State", "Evidence"], r.Invariants.Select(i => new[] { i.Name, i.Holds ? "holds" : "BROKEN", i.Evidence ?? "" }));

        h.Append("<h2>Recovery per service</h2>");
        Table(h, ["Service", "Faults", "Recovered", "Median ms", "p99 ms", "Max ms", "Down ms"], r.Services.Select(s => new[] { s.Name, N(s.Faults), N(s.Recovered), N(s.MedianRecoveryMs), N(s.P99RecoveryMs), N(s.MaxRecoveryMs), N(s.DowntimeMs) }));

        h.Append("<h2>Workloads</h2>");
        Table(h, ["Guest", "Replies", "Lost", "Loss windows", "Longest window ms", "Median round trip ms", "Longest round trip ms"], r.Network.Select(p => new[] { p.Guest, N(p.Received), N(p.Lost), N(p.Windows.Count), N(p.MaxWindowMs), N(p.MedianRttMs), N(p.MaxRttMs) }));
        Table(h, ["Guest", "Passes", "Mismatches", "Errors", "Reconnects", "Re-issued"], r.Storage.Select(s => new[] { s.Guest, N(s.Passes), N(s.Mismatches), N(s.Errors), N(s.Reconnects), N(s.Reissued) }));
        Table(h, ["Canary root", "Acknowledged", "Unanswered writes", "Read-backs"], [[r.Xenstore.Root, N(r.Xenstore.Acknowledged), N(r.Xenstore.Unacknowledged), N(r.Xenstore.Checks)]]);
        Table(h, ["Guest", "Role", "State", "Last heartbeat ms", "Evidence"], r.Guests.Select(g => new[] { g.Name, g.Role, g.State ?? "gone", N(g.LastHeartbeatMs), g.Evidence ?? "" }));
        if (r.Counters is { } c)
        {
            h.Append("<h2>Host counters</h2>");
            Table(h, ["", "Domains", "Services", "Event ports", "Grant maps", "Shared pages", "Free KiB"], [Row("before", c.Before), Row("after", c.After)]);
            h.Append("<p>").Append(c.Leaks.Count == 0 ? "Nothing leaked." : esc(string.Join("; ", c.Leaks))).Append("</p>");
        }

        h.Append("<h2>Faults</h2>");
        Table(h, ["#", "At ms", "Target", "Fault", "Hold ms", "Outcome", "Old pid", "New pid", "Recovery ms", "Frames lost", "Re-issued"], r.Faults.Select(f => new[]
        {
            N(f.Index), N(f.AtMs), f.Target, f.Kind.Name(), N(f.HoldMs), f.Outcome, f.OldPid?.ToString(CultureInfo.InvariantCulture) ?? "-",
            f.NewPid?.ToString(CultureInfo.InvariantCulture) ?? "-", f.RecoveryMs?.ToString(CultureInfo.InvariantCulture) ?? "-", N(f.FramesLost), N(f.Reissued),
        }));
        h.Append("<h2>Schedule (from the seed)</h2>");
        Table(h, ["#", "At ms", "Target", "Fault", "Hold ms"], r.Schedule.Select(s => new[] { N(s.Index), N(s.AtMs), s.Target, s.Kind.Name(), N(s.HoldMs) }));
        h.Append("</body></html>\n");
        return h.ToString();
    }

    private static string[] Row(string label, HostCountersSnapshot s) =>
        [label, N(s.Domains), N(s.Services), N(s.EventPorts), N(s.GrantMaps), N(s.SharedPages), N(s.FreeMemoryKiB)];

    private static void Table(StringBuilder h, string[] headers, IEnumerable<string[]> rows)
    {
        h.Append("<table><tr>");
        foreach (var head in headers)
        {
            h.Append("<th>").Append(TimelineSvg.Esc(head)).Append("</th>");
        }

        h.Append("</tr>");
        foreach (var row in rows)
        {
            h.Append("<tr>");
            foreach (var cell in row)
            {
                h.Append("<td>").Append(TimelineSvg.Esc(cell)).Append("</td>");
            }

            h.Append("</tr>");
        }

        h.Append("</table>");
    }

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}
