using Disagg.Toolstack.Fault.Schedule;
using Disagg.Toolstack.Fault.Workload;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>
/// Turns what a run watched into its report: each fault's outcome with the frames lost and requests re-issued
/// after it (up to the next fault), recovery per service (median, p99, max, total downtime), the workloads'
/// figures and every invariant's verdict.
/// </summary>
internal static class ReportBuilder
{
    public static FaultReport Build(
        RunPlan plan,
        IReadOnlyList<ScheduledFault> schedule,
        DateTimeOffset startedAt,
        long elapsed,
        IReadOnlyList<GuestWatch> guestWatches,
        IReadOnlyList<FaultTracker> faults,
        IReadOnlyDictionary<string, (string Evidence, long AtMs)> breaches,
        Violation? violation,
        XenstoreCanaries canaries,
        CountersCheck? counters)
    {
        {
            var reissuedNow = guestWatches.Sum(g => g.Blk.Reissued);
            var windows = guestWatches.SelectMany(g => g.Ping.Windows).ToList();
            var outcomes = new List<FaultOutcome>();
            for (var i = 0; i < faults.Count; i++)
            {
                var f = faults[i];
                var until = i + 1 < faults.Count ? faults[i + 1].AtMs : long.MaxValue;

                // A window's start is the last reply seen before the loss, so it may precede its fault by a poll or two.
                var lost = windows.Where(w => w.StartMs + 500 >= f.AtMs && w.StartMs + 500 < until).Sum(w => w.Lost);
                var reissued = (i + 1 < faults.Count ? faults[i + 1].ReissuedBefore : reissuedNow) - f.ReissuedBefore;
                outcomes.Add(f.Outcome(lost, reissued));
            }

            var services = plan.Targets.Select(t => Recovery(t, outcomes.Where(o => o.Target == t).ToList())).ToList();
            var invariants = Invariants.All.Select(name => breaches.TryGetValue(name, out var b)
                ? new InvariantResult(name, false, b.Evidence, b.AtMs)
                : new InvariantResult(name, true, null, null)).ToList();
            var guests = guestWatches.Select(g => new GuestSummary(
                g.Name,
                g.Ping.Active ? "ping" : g.Blk.Active ? "blk-verify" : "heartbeat",
                g.LastState,
                g.LastHeartbeatMs,
                g.WhyNotAlive(elapsed, plan.HeartbeatMs))).ToList();
            breaches.TryGetValue(Invariants.Xenstore, out var xs);
            return new FaultReport(
                FaultReport.CurrentVersion,
                startedAt,
                elapsed,
                plan,
                schedule,
                outcomes,
                services,
                [.. guestWatches.Where(g => g.Ping.Active).Select(g => g.Ping.Summary(elapsed))],
                [.. guestWatches.Where(g => g.Blk.Active).Select(g => g.Blk.Summary())],
                new XenstoreSummary(canaries.Root, canaries.Written, canaries.Unacknowledged, canaries.Checks, xs.Evidence),
                guests,
                counters,
                invariants,
                violation);
        }
    }

    private static ServiceRecovery Recovery(string name, List<FaultOutcome> faults)
    {
        var times = faults.Where(f => f.RecoveryMs is not null).Select(f => f.RecoveryMs!.Value).Order().ToList();
        long Pick(double q) => times.Count == 0 ? 0 : times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1 < 0 ? 0 : (int)Math.Ceiling(q * times.Count) - 1)];
        return new ServiceRecovery(name, faults.Count, times.Count, Pick(0.5), Pick(0.99), times.Count == 0 ? 0 : times[^1], times.Sum());
    }
}
