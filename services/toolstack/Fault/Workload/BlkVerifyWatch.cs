using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.Toolstack.Fault.Report;

namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// A pvos blk-verify's console: every pass writes a checksummed pattern, flushes and reads it back, so an
/// acknowledged write that was lost or a corrupted block shows as a MISMATCH line, a request the guest saw fail
/// as an error line. Each pass line carries the frontend's reconnects and re-issued requests.
/// </summary>
public sealed partial class BlkVerifyWatch(string guest)
{
    private readonly List<string> _evidence = [];

    public string Guest { get; } = guest;

    public long Passes { get; private set; }

    public long Mismatches { get; private set; }

    public long Errors { get; private set; }

    public long Reconnects { get; private set; }

    public long Reissued { get; private set; }

    /// <summary>Run-clock ms of the last completed pass (-1: none yet).</summary>
    public long LastPassMs { get; private set; } = -1;

    /// <summary>The lines that broke an invariant (the first few).</summary>
    public IReadOnlyList<string> Evidence => _evidence;

    /// <summary>Whether this guest runs blk-verify (its start line or a pass was seen).</summary>
    public bool Active { get; private set; }

    public void Feed(IReadOnlyList<string> lines, long nowMs)
    {
        foreach (var line in lines)
        {
            if (line.Contains("blk-verify: ", StringComparison.Ordinal))
            {
                Active = true;
            }

            if (Pass().Match(line) is { Success: true } p)
            {
                Passes++;
                Mismatches += long.Parse(p.Groups["mis"].Value, CultureInfo.InvariantCulture);
                Reconnects = long.Parse(p.Groups["rec"].Value, CultureInfo.InvariantCulture);
                Reissued = long.Parse(p.Groups["re"].Value, CultureInfo.InvariantCulture);
                LastPassMs = nowMs;
            }
            else if (line.Contains("blk-verify: MISMATCH", StringComparison.Ordinal) || line.Contains("blk-verify: FAIL", StringComparison.Ordinal))
            {
                Keep(line);
            }
            else if (Failed().IsMatch(line))
            {
                Errors++;
                Keep(line);
            }
        }
    }

    public StorageSummary Summary() => new(Guest, Passes, Mismatches, Errors, Reconnects, Reissued, [.. _evidence]);

    private void Keep(string line)
    {
        if (_evidence.Count < 8)
        {
            _evidence.Add(line.Trim());
        }
    }

    [GeneratedRegex(@"blk-verify: pass \d+: wrote and read \d+ sectors, (?<mis>\d+) mismatches; (?<rec>\d+) reconnects, (?<re>\d+) requests re-issued")]
    private static partial Regex Pass();

    [GeneratedRegex(@"blk-verify: ((read|write) of sector \d+|flush) failed")]
    private static partial Regex Failed();
}
