namespace Disagg.Toolstack.Supervision;

/// <summary>
/// When to restart a service that died. A crash loop — a process that dies before it serves, or within
/// <see cref="HealthyAfter"/> of serving — is restarted at once the first time (a killed driver domain should
/// be back before a guest notices), then after a delay that doubles up to a ceiling; after MaxRestarts within
/// Window the service is marked failed and left down for an operator. A process that had served for at least
/// <see cref="HealthyAfter"/> was healthy: its death (a kill from outside, a fault injected on purpose, a rare
/// bug) is restarted at once and starts the crash-loop count afresh, so a long chaos run that kills a healthy
/// service every few seconds never meets a growing back-off nor the give-up (issue 15: with the old policy a
/// netback killed every 3 s spent most of a 5-minute run waiting out its own back-off).
/// </summary>
public sealed record RestartPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay, int MaxRestarts, TimeSpan Window)
{
    public static readonly RestartPolicy Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), 10, TimeSpan.FromSeconds(60));

    /// <summary>How long a process must have served before its death no longer counts as part of a crash loop.</summary>
    public TimeSpan HealthyAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The delay before restart number <paramref name="recentRestarts"/> (0-based) in the window.</summary>
    public TimeSpan DelayFor(int recentRestarts) => recentRestarts == 0
        ? TimeSpan.Zero
        : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(recentRestarts - 1, 30)));

    /// <summary>Whether a process that served since <paramref name="servedAt"/> (null: never) and died at <paramref name="diedAt"/> was healthy, not looping.</summary>
    public bool WasHealthy(DateTimeOffset? servedAt, DateTimeOffset diedAt) => servedAt is { } s && diedAt - s >= HealthyAfter;
}
