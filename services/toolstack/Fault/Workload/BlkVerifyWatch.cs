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
    private readonly List<string> _errorLines = [];

    public string Guest { get; } = guest;

    public long Passes { get; private set; }

    public long Mismatches { get; private set; }

    public long Errors { get; private set; }

    public long Reconnects { get; private set; }

    public long Reissued { get; private set; }

    /// <summary>Run-clock ms of the last completed pass (-1: none yet).</summary>
    public long LastPassMs { get; private set; } = -1;

    /// <summary>The lines that broke an invariant whatever was injected: mismatches, FAIL (the first few).</summary>
    public IReadOnlyList<string> Evidence => _evidence;

    /// <summary>
    /// The requests the guest saw fail (the first few): a breach only beyond the errors the run injected (an EIO
    /// blkback was told to return is the guest seeing the truth, not corruption; blk-verify then checks that the
    /// failed write's sectors hold the previous pass's pattern and nothing else).
    /// </summary>
    public IReadOnlyList<string> ErrorLines => _errorLines;

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
                if (_errorLines.Count < 8)
                {
                    _errorLines.Add(line.Trim());
                }
            }
        }
    }

    public StorageSummary Summary() => new(Guest, Passes, Mismatches, Errors, Reconnects, Reissued, [.. _evidence, .. _errorLines]);

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
