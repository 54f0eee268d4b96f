namespace Disagg.TestSupport;

/// <summary>What a finished (or killed) program left behind.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr, bool TimedOut, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"exit {ExitCode}{(TimedOut ? " (timed out, killed)" : "")} after {Elapsed.TotalSeconds:F1}s\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}
