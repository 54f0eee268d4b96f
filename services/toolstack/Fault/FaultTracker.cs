using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// One injected fault until its target serves again: a kill, segv or swap is over when the service runs under a
/// new pid; a stop when SIGCONT was delivered. Written by the injector and the service poll, read by the checks:
/// every member under the tracker's own lock.
/// </summary>
internal sealed class FaultTracker(ScheduledFault fault, long atMs, int? oldPid, long reissuedBefore)
{
    private readonly object _lock = new();
    private string _outcome = "injected";
    private long? _recoveredAtMs;
    private int? _newPid;
    private bool _skipped;

    public ScheduledFault Fault { get; } = fault;

    public long AtMs { get; } = atMs;

    public int? OldPid { get; } = oldPid;

    public long ReissuedBefore { get; } = reissuedBefore;

    /// <summary>Neither recovered nor skipped yet.</summary>
    public bool Pending
    {
        get
        {
            lock (_lock)
            {
                return _recoveredAtMs is null && !_skipped;
            }
        }
    }

    public bool Skipped
    {
        get
        {
            lock (_lock)
            {
                return _skipped;
            }
        }
    }

    public long? RecoveredAtMs
    {
        get
        {
            lock (_lock)
            {
                return _recoveredAtMs;
            }
        }
    }

    /// <summary>What is known so far (the daemon's answer to the injection, or why it was skipped).</summary>
    public string Status
    {
        get
        {
            lock (_lock)
            {
                return _outcome;
            }
        }
    }

    public void Skip(string why)
    {
        lock (_lock)
        {
            _skipped = true;
            _outcome = why;
        }
    }

    public void Note(string outcome)
    {
        lock (_lock)
        {
            _outcome = outcome;
        }
    }

    public void Recovered(long nowMs, int? pid, string? outcome = null)
    {
        lock (_lock)
        {
            if (_recoveredAtMs is null && !_skipped)
            {
                _recoveredAtMs = nowMs;
                _newPid = pid;
                _outcome = outcome ?? _outcome;
            }
        }
    }

    public FaultOutcome Outcome(long framesLost, long reissued)
    {
        lock (_lock)
        {
            var outcome = _recoveredAtMs is null && !_skipped ? _outcome + "; not serving again by the end" : _outcome;
            return new FaultOutcome(Fault.Index, AtMs, Fault.Target, Fault.Kind, Fault.HoldMs, outcome, OldPid, _newPid, _recoveredAtMs - AtMs, framesLost, reissued);
        }
    }
}
