using System.Diagnostics;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Xenstore;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Daemon.Save;

/// <summary>
/// A PV guest's cooperative suspend, as libxl does it (docs/SAVE-RESTORE.md "Suspend"): the toolstack writes
/// control/shutdown = "suspend"; the guest quiesces, acknowledges by clearing the node and calls
/// SCHEDOP_shutdown(SHUTDOWN_suspend); the kernel then reports it shut down for suspend. The way back in
/// place is <see cref="ResumeAsync"/> (the suspend returns 1, "cancelled": the guest keeps its rings). Save
/// and live migration both start here; a migration that fails resumes the source the same way.
/// </summary>
internal sealed class GuestSuspend(KernelLink kernel, XenstoreDomains xenstore)
{
    /// <summary>How often the domain's state is looked at while it suspends: a fraction of a guest's suspend time.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    /// <summary>Asks the guest to suspend and waits until it has; returns how long it took.</summary>
    /// <param name="polls">Counts the looks at the domain's state (a migration reports its hops).</param>
    /// <exception cref="DomainOperationException">It did not within <paramref name="timeout"/> (the request is withdrawn), or it shut down otherwise.</exception>
    public async Task<TimeSpan> SuspendAsync(int domid, string name, TimeSpan timeout, CancellationToken cancel, Action? polls = null)
    {
        if (!xenstore.Available)
        {
            throw new DomainOperationException(name, "cannot be asked to suspend: xenstored is not running (a PV guest is asked through control/shutdown)");
        }

        var clock = Stopwatch.StartNew();
        await WriteRequestAsync(domid, "suspend", cancel).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var list = await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false);
                polls?.Invoke();
                var d = list.Domains.FirstOrDefault(x => x.DomainId == domid)
                    ?? throw new DomainOperationException(name, "went away while it was suspending");
                if (d.State == "s" && d.ShutdownReason == (int)ShutdownReason.Suspend)
                {
                    return clock.Elapsed;
                }

                if (d.State is "s" or "c" or "d")
                {
                    throw new DomainOperationException(name, $"shut down ({(d.State == "c" ? "crash" : ((ShutdownReason)d.ShutdownReason).ToString().ToLowerInvariant())}) instead of suspending");
                }

                if (clock.Elapsed > timeout)
                {
                    throw new DomainOperationException(name, $"did not suspend within {timeout.TotalSeconds:0.#} s of control/shutdown = \"suspend\" (its OS must answer it, as pvos and Linux do)");
                }

                await Task.Delay(Poll, cancel).ConfigureAwait(false);
            }
        }
        catch
        {
            await WriteRequestAsync(domid, "", CancellationToken.None).ConfigureAwait(false); // withdrawn: a late guest must not suspend with no one waiting
            throw;
        }
    }

    /// <summary>Resumes a suspended guest in place; <paramref name="paused"/> leaves it control-paused (save -p).</summary>
    public async Task ResumeAsync(int domid, bool paused, CancellationToken cancel)
    {
        if (paused)
        {
            await kernel.Client.CallAsync<OkReply>(new DomainCommand(domid, DomainOperation.Pause), cancel).ConfigureAwait(false);
        }

        await kernel.Client.CallAsync<OkReply>(new DomainCommand(domid, DomainOperation.ResumeSuspended), cancel).ConfigureAwait(false);
    }

    private async Task WriteRequestAsync(int domid, string value, CancellationToken cancel)
    {
        try
        {
            await using var xs = await xenstore.ConnectAsync(cancel).ConfigureAwait(false);
            await xs.WriteAsync(Disagg.Xenbus.XenstoreClient.NoTransaction, $"{XenstoreDomains.DomainPath(domid)}/control/shutdown", value, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Disagg.Xenbus.XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            throw new DomainOperationException(domid.ToString(System.Globalization.CultureInfo.InvariantCulture), $"xenstore: could not write control/shutdown: {e.Message}");
        }
    }
}
