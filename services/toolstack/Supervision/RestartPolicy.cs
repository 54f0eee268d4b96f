namespace Disagg.Toolstack.Supervision;

/// <summary>
/// When to restart a service that died: at once the first time (a killed driver domain should
/// be back before a guest notices), then after a delay that doubles up to a ceiling; after
/// MaxRestarts within Window the service is marked failed and left down for an operator.
/// </summary>
public sealed record RestartPolicy(TimeSpan FirstDelay, TimeSpan MaxDelay, int MaxRestarts, TimeSpan Window)
{
    public static readonly RestartPolicy Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), 10, TimeSpan.FromSeconds(60));

    /// <summary>The delay before restart number <paramref name="recentRestarts"/> (0-based) in the window.</summary>
    public TimeSpan DelayFor(int recentRestarts) => recentRestarts == 0
        ? TimeSpan.Zero
        : TimeSpan.FromTicks(Math.Min(MaxDelay.Ticks, FirstDelay.Ticks << Math.Min(recentRestarts - 1, 30)));
}
