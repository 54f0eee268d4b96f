using System.Buffers.Binary;
using System.Diagnostics;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// The stop-and-copy's steps on both hosts (the kernels' stamps, MigrationRoundSent.Timeline, in the kernel's
/// MigrationStep order) as offsets from the guest's stop, and the downtime they give: from the guest stopped here to
/// the instant the target unpaused it. The stamps are CLOCK_MONOTONIC, one clock per machine: the target's are used only
/// when they fall between ours (the stop round begun, its Resumed read), which on two machines they would not by chance
/// alone; otherwise the downtime ends where we read the target's Resumed (an upper bound) and its steps are left out.
/// </summary>
internal static class StopTimeline
{
    /// <summary>The kernel's MigrationStep names, in wire order; the first seven are the source's.</summary>
    private static readonly string[] Steps =
    [
        "paused", "off_cpu", "last_dirty_read", "stop_round_sent", "built_read", "commit_sent", "resumed_read",
        "stop_round_arrived", "pages_applied", "state_read", "domain_built", "vcpus_loaded", "built_sent", "commit_read", "resumed",
    ];

    private const int SourceSteps = 7;
    private const int Paused = 0;
    private const int ResumedRead = 6;
    private const int StopRoundArrived = 7;
    private const int TargetResumed = 14;

    /// <param name="timeline">The kernel's stamps (null from a kernel without them).</param>
    /// <param name="stoppedAt">When this daemon saw the guest stop (its suspend, or our pause's reply), or 0 when the kernel paused it at the Finish.</param>
    /// <returns>The steps reached, each as microseconds since the stop, and the downtime (0 without stamps).</returns>
    public static (IReadOnlyList<MigrationStepRow> Steps, long DowntimeUs, bool TargetClock) Read(byte[]? timeline, long stoppedAt)
    {
        var at = new long[Steps.Length];
        for (var s = 0; timeline is not null && s < at.Length && (s + 1) * 8 <= timeline.Length; s++)
        {
            at[s] = BinaryPrimitives.ReadInt64LittleEndian(timeline.AsSpan(s * 8));
        }

        // The earlier of our stamp and the kernel's: a suspend's SHUTDOWN_suspend precedes our seeing it, our pause's
        // reply precedes the Finish's arrival (the kernel's stamp for a guest we paused).
        var stop = stoppedAt != 0 && (at[Paused] == 0 || stoppedAt < at[Paused]) ? stoppedAt : at[Paused];
        if (stop == 0 || at[ResumedRead] == 0)
        {
            return ([], 0, false);
        }

        // One clock: every target stamp reached lies within our stop and our read of its Resumed. Not its last wake-up
        // (StopRoundArrived), which precedes our stop when it was still reading the pre-copy rounds: a negative offset.
        var sameClock = at[TargetResumed] != 0;
        for (var s = StopRoundArrived + 1; s < at.Length; s++)
        {
            sameClock &= at[s] == 0 || (at[s] >= at[Paused] && at[s] <= at[ResumedRead]);
        }

        var rows = new List<MigrationStepRow>();
        for (var s = 0; s < at.Length; s++)
        {
            if (at[s] != 0 && (s < SourceSteps || sameClock))
            {
                rows.Add(new MigrationStepRow(s < SourceSteps ? "source" : "target", Steps[s], Us(at[s] - stop)));
            }
        }

        return (rows, Us((sameClock ? at[TargetResumed] : at[ResumedRead]) - stop), sameClock);
    }

    private static long Us(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
