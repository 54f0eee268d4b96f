using System.Globalization;
using System.Text;
using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>
/// The run as one inline SVG: a lane per target service (each fault a marker, its downtime until the service
/// served again a red bar), a lane per pinging guest (loss windows, frames lost), a lane for blk-verify (requests
/// re-issued per fault) and the invariants' lane (green while they hold, a red mark where one broke).
/// </summary>
internal static class TimelineSvg
{
    private const int Left = 130;
    private const int Width = 1000;
    private const int Lane = 34;

    public static string Render(FaultReport r)
    {
        var lanes = new List<string>();
        lanes.AddRange(r.Plan.Targets);
        lanes.AddRange(r.Network.Select(n => "ping " + n.Guest));
        lanes.AddRange(r.Storage.Select(s => "blk " + s.Guest));
        lanes.Add("invariants");
        var end = Math.Max(1, Math.Max(r.ElapsedMs, r.Plan.DurationMs));
        var height = (lanes.Count * Lane) + 40;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Left + Width + 20}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        for (var i = 0; i < lanes.Count; i++)
        {
            var y = (i * Lane) + 10;
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{y}\" width=\"{Width}\" height=\"{Lane - 8}\" fill=\"#f4f4f4\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"4\" y=\"{y + 17}\">{Esc(lanes[i])}</text>");
        }

        foreach (var f in r.Faults)
        {
            var lane = lanes.IndexOf(f.Target);
            var y = (lane * Lane) + 10;
            var x = X(f.AtMs, end);
            if (f.RecoveryMs is { } rec)
            {
                var w = Math.Max(1.5, X(f.AtMs + rec, end) - x);
                var colour = f.Kind == FaultKind.Stop ? "#e8a33d" : FaultKinds.IsChannelFault(f.Kind) && f.Kind != FaultKind.JournalTear ? "#3d8be8" : "#d9453b";
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.0}\" y=\"{y + 4}\" width=\"{w:0.0}\" height=\"{Lane - 16}\" fill=\"{colour}\"><title>{Esc(Describe(f))}</title></rect>");
            }

            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.0}\" y=\"{y + Lane - 10}\" font-size=\"9\" fill=\"#333\">{Letter(f.Kind)}<title>{Esc(Describe(f))}</title></text>");
        }

        for (var i = 0; i < r.Network.Count; i++)
        {
            var y = (lanes.IndexOf("ping " + r.Network[i].Guest) * Lane) + 10;
            foreach (var w in r.Network[i].Windows)
            {
                var x = X(w.StartMs, end);
                svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.0}\" y=\"{y + 4}\" width=\"{Math.Max(1.5, X(w.EndMs, end) - x):0.0}\" height=\"{Lane - 16}\" fill=\"#7b5bd6\"><title>{w.Lost} lost, {w.EndMs - w.StartMs} ms from {w.StartMs} ms</title></rect>");
            }
        }

        foreach (var s in r.Storage)
        {
            var y = (lanes.IndexOf("blk " + s.Guest) * Lane) + 10;
            foreach (var f in r.Faults.Where(f => f.Reissued > 0))
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(f.AtMs, end):0.0}\" y=\"{y + 17}\" font-size=\"10\" fill=\"#2b6cb0\">{f.Reissued}<title>{f.Reissued} requests re-issued after fault {f.Index}</title></text>");
            }
        }

        var iy = ((lanes.Count - 1) * Lane) + 10;
        var okUntil = r.Violation is { } v ? v.AtMs : end;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{iy + 8}\" width=\"{X(okUntil, end) - Left:0.0}\" height=\"{Lane - 24}\" fill=\"#3aa655\"><title>invariants hold</title></rect>");
        if (r.Violation is { } broke)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(broke.AtMs, end) - 3:0.0}\" y=\"{iy}\" width=\"6\" height=\"{Lane - 8}\" fill=\"#c00\"><title>{Esc(broke.Invariant + ": " + broke.Evidence)}</title></rect>");
        }

        var axisY = (lanes.Count * Lane) + 22;
        var step = Step(end);
        for (var t = 0L; t <= end; t += step)
        {
            var x = X(t, end);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.0}\" y1=\"10\" x2=\"{x:0.0}\" y2=\"{axisY - 10}\" stroke=\"#ccc\" stroke-width=\"0.5\"/><text x=\"{x:0.0}\" y=\"{axisY}\" text-anchor=\"middle\" font-size=\"10\">{t / 1000}s</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    private static double X(long ms, long end) => Left + (Width * (double)Math.Clamp(ms, 0, end) / end);

    private static long Step(long end)
    {
        foreach (var s in new long[] { 1000, 2000, 5000, 10000, 30000, 60000, 120000, 300000, 600000 })
        {
            if (end / s <= 20)
            {
                return s;
            }
        }

        return 3600000;
    }

    private static string Letter(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "K",
        FaultKind.Stop => "S",
        FaultKind.Segv => "V",
        FaultKind.Swap => "W",
        FaultKind.RingDelay => "D",
        FaultKind.RingDropNotify => "N",
        FaultKind.RingSpuriousNotify => "P",
        FaultKind.CopyError => "C",
        FaultKind.DiskEio => "E",
        FaultKind.JournalTear => "J",
        _ => "?",
    };

    private static string Describe(FaultOutcome f) =>
        $"#{f.Index} {f.Kind.Name()} {f.Target} at {f.AtMs} ms: {f.Outcome}" + (f.RecoveryMs is { } r ? $", serving again after {r} ms" : "") + (f.FramesLost > 0 ? $", {f.FramesLost} frames lost" : "");

    internal static string Esc(string s) => System.Net.WebUtility.HtmlEncode(s);
}
