namespace Disagg.Toolstack.Fault.Workload;

/// <summary>
/// One guest under watch: its console read once per poll and fed to the workload parsers (a guest that pings,
/// one that runs blk-verify, or neither), its heartbeat (the console last grew), and the state the daemon last
/// listed for it. A guest is alive while it is listed, neither crashed nor shut down, and its console grew within
/// the heartbeat bound once it first spoke.
/// </summary>
public sealed class GuestWatch(string name, string consoleLog, int pingIntervalMs)
{
    private readonly ConsoleTail _console = new(consoleLog);

    public string Name { get; } = name;

    public PingWatch Ping { get; } = new(name, pingIntervalMs);

    public BlkVerifyWatch Blk { get; } = new(name);

    /// <summary>xl's state column as last listed ("-b----"), or null when the guest was not listed.</summary>
    public string? LastState { get; set; } = "";

    public long LastHeartbeatMs => _console.LastGrowthMs;

    public void Poll(long nowMs)
    {
        var lines = _console.ReadNew(nowMs);
        if (lines.Count > 0)
        {
            Ping.Feed(lines, nowMs);
            Blk.Feed(lines, nowMs);
        }
    }

    /// <summary>Null while alive; otherwise why not (gone, crashed, shut down, or silent for longer than the bound).</summary>
    public string? WhyNotAlive(long nowMs, long heartbeatMs)
    {
        if (LastState is null)
        {
            return $"guest {Name} is no longer listed";
        }

        if (LastState.Contains('c', StringComparison.Ordinal))
        {
            return $"guest {Name} crashed (state {LastState})";
        }

        if (LastState.Contains('s', StringComparison.Ordinal) || LastState.Contains('d', StringComparison.Ordinal))
        {
            return $"guest {Name} shut down (state {LastState})";
        }

        return LastHeartbeatMs >= 0 && nowMs - LastHeartbeatMs > heartbeatMs
            ? $"guest {Name}'s console has been silent for {(nowMs - LastHeartbeatMs) / 1000.0:0.0} s (heartbeat bound {heartbeatMs / 1000.0:0} s)"
            : null;
    }
}
