namespace Disagg.Toolstack.Fault.Schedule;

/// <summary>
/// What a fault run was asked for: which services, which faults, how often, for how long, and the seed that
/// makes its schedule. Everything the schedule depends on is here, so a report's plan rebuilds its schedule.
/// </summary>
public sealed record FaultPlan(IReadOnlyList<string> Targets, IReadOnlyList<FaultKind> Kinds, TimeSpan Every, TimeSpan Duration, int Seed)
{
    /// <summary>
    /// The services a run may target: the supervised service domains whose death guests must survive. qemu-dm names
    /// every HVM guest's device model (services qemu-dm-DOMID), or one of them as qemu-dm-DOMID.
    /// </summary>
    public static IReadOnlyList<string> KnownTargets { get; } = ["netback", "blkback", "xenstored", "qemu-dm"];

    /// <summary>The kind of service a target is: its name, or qemu-dm for a device model's qemu-dm-DOMID.</summary>
    public static string KindOf(string target) => target.StartsWith("qemu-dm", StringComparison.Ordinal) ? "qemu-dm" : target;

    /// <summary>
    /// The targets as services of a host: qemu-dm becomes every service named qemu-dm-*; a target the host does not run
    /// is an error naming it (a qemu-dm target needs an HVM guest with its device model).
    /// </summary>
    public static IReadOnlyList<string> Resolve(IReadOnlyList<string> targets, IReadOnlyCollection<string> services)
    {
        var resolved = new List<string>();
        foreach (var target in targets)
        {
            var matches = target == "qemu-dm"
                ? services.Where(s => s.StartsWith("qemu-dm-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
                : services.Contains(target) ? [target] : [];
            if (matches.Count == 0)
            {
                throw new FormatException(target == "qemu-dm"
                    ? "this host runs no qemu-dm service (qemu-dm-DOMID: an HVM guest's device model); see `disagg service list`"
                    : $"this host has no service '{target}' (see `disagg service list`)");
            }

            resolved.AddRange(matches.Where(m => !resolved.Contains(m)));
        }

        return resolved;
    }

    /// <summary>The shortest interval between faults: below it a target restarted by one fault is hit again before it serves.</summary>
    public static TimeSpan MinEvery { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Quiet time after the last fault: every service recovers and the invariants are checked on a calm host.</summary>
    public TimeSpan Settle => TimeSpan.FromTicks(Math.Max(Every.Ticks, TimeSpan.FromSeconds(3).Ticks));

    /// <summary>Parses `--faults kill,stop,...`; a clear error names what is wrong.</summary>
    public static IReadOnlyList<FaultKind> ParseKinds(string text)
    {
        var kinds = new List<FaultKind>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kind = FaultKinds.Parse(name)
                ?? throw new FormatException($"unknown fault '{name}' (process faults: kill, stop, segv, swap; channel faults, on a host started with --fault-injection: ring-delay, ring-drop-notify, ring-spurious-notify, copy-error, disk-eio, journal-tear)");
            if (!kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        return kinds.Count > 0 ? kinds : throw new FormatException("--faults names no fault");
    }

    /// <summary>Parses `--targets netback,blkback,...` against <see cref="KnownTargets"/>.</summary>
    public static IReadOnlyList<string> ParseTargets(string text)
    {
        var targets = new List<string>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!KnownTargets.Contains(name) && !(name.StartsWith("qemu-dm-", StringComparison.Ordinal) && name.Length > 8))
            {
                throw new FormatException($"unknown target '{name}' (targets: {string.Join(", ", KnownTargets)})");
            }

            if (!targets.Contains(name))
            {
                targets.Add(name);
            }
        }

        return targets.Count > 0 ? targets : throw new FormatException("--targets names no service");
    }

    /// <summary>Parses a duration: 500ms, 2s, 10m, 1h, or bare seconds.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var t = text.Trim();
        var (number, unit) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], 0.001)
            : t.EndsWith('s') ? (t[..^1], 1.0)
            : t.EndsWith('m') ? (t[..^1], 60.0)
            : t.EndsWith('h') ? (t[..^1], 3600.0)
            : (t, 1.0);
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= 0 || double.IsInfinity(value))
        {
            throw new FormatException($"'{text}' is not a duration (e.g. 500ms, 2s, 10m)");
        }

        return TimeSpan.FromSeconds(value * unit);
    }

    /// <summary>Checks the plan as a whole; throws <see cref="FormatException"/> naming the problem.</summary>
    public void Validate()
    {
        if (Every < MinEvery)
        {
            throw new FormatException($"--every {Every.TotalMilliseconds:0} ms: at least {MinEvery.TotalMilliseconds:0} ms");
        }

        if (Duration < Every + Settle)
        {
            throw new FormatException($"--for {Duration.TotalSeconds:0.#} s leaves no room for a fault: at least --every plus {Settle.TotalSeconds:0} s of settling");
        }

        foreach (var kind in Kinds.Where(k => !Targets.Any(t => FaultKinds.AppliesTo(k, t))))
        {
            throw new FormatException($"--faults {FaultKinds.Name(kind)} applies to none of --targets {string.Join(",", Targets)} ({FaultKinds.Name(kind)}: {string.Join(", ", KnownTargets.Where(t => FaultKinds.AppliesTo(kind, t)))})");
        }

        if (Duration > TimeSpan.FromDays(1))
        {
            throw new FormatException("--for: at most 24h");
        }
    }
}
