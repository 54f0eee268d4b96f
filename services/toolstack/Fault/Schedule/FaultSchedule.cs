namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>
/// Builds a plan's schedule from its seed alone: the same plan gives the same faults at the same offsets on any
/// host, so a failing run is re-run exactly (System.Random with a seed is a fixed algorithm). Faults come every
/// <see cref="FaultPlan.Every"/> with up to a quarter of it as jitter either way; each round of faults takes every
/// (target, kind) pair that applies (a disk EIO to blkback only, a torn journal to xenstored only) once in a seeded order, so even a short run covers each pair, and the last fault leaves
/// <see cref="FaultPlan.Settle"/> before the end for recovery.
/// </summary>
public static class FaultSchedule
{
    /// <summary>How long a SIGSTOP holds at least; the most is half the interval (capped at 2 s) so the service runs between faults.</summary>
    public static TimeSpan MinHold { get; } = TimeSpan.FromMilliseconds(200);

    public static IReadOnlyList<ScheduledFault> Build(FaultPlan plan)
    {
        plan.Validate();
        var random = new Random(plan.Seed);
        var pairs = new List<(string Target, FaultKind Kind)>();
        foreach (var target in plan.Targets)
        {
            foreach (var kind in plan.Kinds.Where(k => FaultKinds.AppliesTo(k, target)))
            {
                pairs.Add((target, kind));
            }
        }

        var every = (long)plan.Every.TotalMilliseconds;
        var last = (long)(plan.Duration - plan.Settle).TotalMilliseconds;
        var maxHold = Math.Max((long)MinHold.TotalMilliseconds, Math.Min(every / 2, 2000));
        var faults = new List<ScheduledFault>();
        var round = new Queue<(string, FaultKind)>();
        for (var slot = 1L; ; slot++)
        {
            var at = (slot * every) + random.NextInt64(-every / 4, (every / 4) + 1);
            if (at > last)
            {
                break;
            }

            if (round.Count == 0)
            {
                var order = pairs.ToArray();
                random.Shuffle(order);
                foreach (var p in order)
                {
                    round.Enqueue(p);
                }
            }

            var (target, kind) = round.Dequeue();
            var hold = kind == FaultKind.Stop ? random.NextInt64((long)MinHold.TotalMilliseconds, maxHold + 1) : 0;
            faults.Add(new ScheduledFault(faults.Count, at, target, kind, hold));
        }

        return faults;
    }
}
