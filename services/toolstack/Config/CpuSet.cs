using System.Globalization;

namespace Disagg.Toolstack.Config;

/// <summary>
/// A set of physical CPUs as xl writes it: "all", "3", "0-3,5", "all,^1" or "^1" (everything
/// but 1). Kept as written (inclusions, exclusions) because the host's CPU count is known only
/// when the domain is created; <see cref="Resolve"/> turns it into CPU numbers then.
/// </summary>
public sealed record CpuSet(bool IncludesAll, IReadOnlyList<int> Include, IReadOnlyList<int> Exclude)
{
    public static readonly CpuSet All = new(true, [], []);

    public static CpuSet Parse(string text, ConfigPosition at)
    {
        var include = new SortedSet<int>();
        var exclude = new SortedSet<int>();
        var all = false;
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw == "all")
            {
                all = true;
                continue;
            }

            var neg = raw.StartsWith('^');
            var body = neg ? raw[1..] : raw;
            var dash = body.IndexOf('-', StringComparison.Ordinal);
            var lo = ParseCpu(dash < 0 ? body : body[..dash], text, at);
            var hi = dash < 0 ? lo : ParseCpu(body[(dash + 1)..], text, at);
            if (hi < lo)
            {
                throw new ConfigException(at, $"cpus '{text}': range {lo}-{hi} runs backwards");
            }

            for (var c = lo; c <= hi; c++)
            {
                (neg ? exclude : include).Add(c);
            }
        }

        // Only exclusions ("^1") means everything but them, as xl reads it.
        all |= include.Count == 0;
        if (!all && include.IsSubsetOf(exclude))
        {
            throw new ConfigException(at, $"cpus '{text}' leaves no CPU");
        }

        return all && exclude.Count == 0 ? All : new CpuSet(all, [.. include], [.. exclude]);
    }

    /// <summary>The pCPUs this set allows on a host with <paramref name="hostCpus"/> CPUs (possibly none).</summary>
    public IReadOnlyList<int> Resolve(int hostCpus)
    {
        var result = new List<int>();
        for (var c = 0; c < hostCpus; c++)
        {
            if ((IncludesAll || Include.Contains(c)) && !Exclude.Contains(c))
            {
                result.Add(c);
            }
        }

        return result;
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (IncludesAll)
        {
            parts.Add("all");
        }

        parts.AddRange(Include.Select(c => c.ToString(CultureInfo.InvariantCulture)));
        parts.AddRange(Exclude.Select(c => "^" + c.ToString(CultureInfo.InvariantCulture)));
        return string.Join(',', parts);
    }

    private static int ParseCpu(string s, string text, ConfigPosition at) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < 4096
            ? n
            : throw new ConfigException(at, $"cpus '{text}': '{s}' is not a CPU number");
}
