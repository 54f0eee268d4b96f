using System.Diagnostics;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon.Save;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// How the source stops a guest for the stop-and-copy, and takes that back when the migration fails before the
/// commit. A PV guest is asked to suspend, as for a save (<see cref="GuestSuspend"/>): on the target the suspend
/// returns 0 in a new domain and its frontends reconnect to fresh rings there; taken back, it returns 1
/// (cancelled) and the guest goes on with its rings, grants and event channels here. A host without xenstored
/// has no PV devices to reconnect: its guest is paused instead — by the kernel itself at the Finish when
/// <paramref name="kernelPauses"/> (no request and reply in the downtime; it unpauses the guest if the hand-off fails
/// before the Commit), else here. A guest that was paused is unpaused to answer and paused again afterwards (as a
/// save does).
/// </summary>
internal sealed class GuestStop(KernelClient kernel, GuestSuspend suspend, bool cooperative, int id, string name, bool wasPaused, bool kernelPauses)
{
    /// <summary>A guest that does not suspend within this is not migrated (the request is withdrawn; it runs on).</summary>
    private static readonly TimeSpan SuspendTimeout = TimeSpan.FromSeconds(10);

    private bool _pausedHere;
    private bool _unpausedHere;

    /// <summary>The guest suspended itself (its way back is <see cref="UndoAsync"/>'s resume).</summary>
    public bool Suspended { get; private set; }

    /// <summary>When the guest stopped running (a Stopwatch timestamp); 0 until then, and when the kernel pauses it at the Finish (its stamp says).</summary>
    public long StoppedAt { get; private set; }

    /// <summary>The Finish asks the kernel to pause the guest (MigrationSend.Pause): nothing was done here.</summary>
    public bool LeftToKernel { get; private set; }

    /// <summary>From the stop request to the guest stopped: its suspend, or the pause.</summary>
    public TimeSpan Took { get; private set; }

    /// <summary>
    /// Messages this daemon exchanged to stop the guest (requests and replies, each a wake-up of another process):
    /// the pause's two, or the suspend request's xenstore write and every look at the domain's state.
    /// </summary>
    public int Hops { get; private set; }

    public async Task StopAsync(CancellationToken cancel)
    {
        if (StoppedAt != 0 || LeftToKernel)
        {
            return;
        }

        if (!cooperative && !wasPaused && kernelPauses)
        {
            LeftToKernel = true;
            return;
        }

        var started = Stopwatch.GetTimestamp();
        if (cooperative)
        {
            if (wasPaused)
            {
                await Command(DomainOperation.Unpause, cancel).ConfigureAwait(false); // only a running guest can answer
                _unpausedHere = true;
            }

            var polls = 0;
            await suspend.SuspendAsync(id, name, SuspendTimeout, cancel, () => polls++).ConfigureAwait(false);
            Suspended = true;
            Hops = 2 + (2 * polls);
        }
        else if (!wasPaused)
        {
            await Command(DomainOperation.Pause, cancel).ConfigureAwait(false);
            _pausedHere = true;
            Hops = 2;
        }

        StoppedAt = Stopwatch.GetTimestamp();
        Took = Stopwatch.GetElapsedTime(started, StoppedAt);
    }

    /// <summary>The migration failed before the commit: the guest goes on here as it was (paused if it was).</summary>
    public async Task UndoAsync()
    {
        if (Suspended)
        {
            await suspend.ResumeAsync(id, paused: wasPaused, CancellationToken.None).ConfigureAwait(false);
        }
        else if (_pausedHere)
        {
            await Command(DomainOperation.Unpause, CancellationToken.None).ConfigureAwait(false);
        }
        else if (_unpausedHere)
        {
            await Command(DomainOperation.Pause, CancellationToken.None).ConfigureAwait(false); // its suspend failed
        }
    }

    private Task Command(DomainOperation op, CancellationToken cancel) =>
        kernel.CallAsync<OkReply>(new DomainCommand(id, op), cancel);
}
