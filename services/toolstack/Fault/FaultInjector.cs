using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Fault.Schedule;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// Injects process faults through the host daemon (it knows each service's pid and counts a signalled death's
/// downtime from the signal): SIGKILL and SIGSEGV at once; SIGSTOP with SIGCONT after the fault's hold on a task
/// of its own; a swap to the service's own binary, whose reply waits until the new process serves. On a host started with
/// --fault-injection a segv is a real fault inside the service, and channel faults are armed through the daemon (a
/// torn journal write ends in the service's death, the others in a service that never stopped). Whatever
/// happens to the run, every stopped service is continued (<see cref="ContinueAllAsync"/>).
/// </summary>
internal sealed class FaultInjector(HostLink host, Func<long> now, bool realSegv)
{
    private readonly List<Task> _background = [];
    private readonly HashSet<string> _stopped = [];
    private readonly object _lock = new();

    /// <summary>Injects <paramref name="fault"/> against the row the daemon listed for its target.</summary>
    public async Task<FaultTracker> InjectAsync(ScheduledFault fault, ServiceRow? row, long reissued, CancellationToken cancel)
    {
        var tracker = new FaultTracker(fault, now(), row?.Pid, reissued);
        if (row is not { State: "running", Pid: not null })
        {
            tracker.Skip($"skipped: {fault.Target} was {row?.State ?? "not a service of this host"}");
            return tracker;
        }

        try
        {
            switch (fault.Kind)
            {
                case FaultKind.Kill:
                    tracker.Note(await host.ActAsync(fault.Target, ServiceAction.Kill, cancel).ConfigureAwait(false));
                    break;
                case FaultKind.Segv when realSegv:
                    tracker.Note(await host.InjectAsync(fault.Target, Disagg.Control.Messages.ChannelFaultKind.Segv, 1, 0, cancel).ConfigureAwait(false));
                    break;
                case FaultKind.Segv:
                    tracker.Note(await host.ActAsync(fault.Target, ServiceAction.Segv, cancel).ConfigureAwait(false));
                    break;
                case FaultKind.Stop:
                    tracker.Note(await host.ActAsync(fault.Target, ServiceAction.Stop, cancel).ConfigureAwait(false));
                    lock (_lock)
                    {
                        _stopped.Add(fault.Target);
                        _background.Add(ContinueLaterAsync(tracker, cancel));
                    }

                    break;
                case FaultKind.Swap:
                    lock (_lock)
                    {
                        _background.Add(SwapAsync(tracker, row.Program, cancel));
                    }

                    break;
                default:
                    var (kind, count, delayMs) = FaultKinds.Channel(fault.Kind);
                    tracker.Note(await host.InjectAsync(fault.Target, kind, count, delayMs, cancel).ConfigureAwait(false));
                    if (fault.Kind != FaultKind.JournalTear)
                    {
                        tracker.Recovered(now(), row.Pid); // armed in a service that never stopped serving
                    }

                    break;
            }
        }
        catch (CliException e)
        {
            tracker.Skip($"not injected: {e.Message}");
        }

        return tracker;
    }

    /// <summary>Continues every service still stopped and waits for the injector's own tasks.</summary>
    public async Task ContinueAllAsync()
    {
        Task[] tasks;
        lock (_lock)
        {
            tasks = [.. _background];
        }

        try
        {
            await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(90)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or CliException)
        {
            // a cancelled hold or a swap still waiting: the services are continued below regardless
        }

        string[] stopped;
        lock (_lock)
        {
            stopped = [.. _stopped];
            _stopped.Clear();
        }

        foreach (var name in stopped)
        {
            await ContinueAsync(name).ConfigureAwait(false);
        }
    }

    private async Task ContinueLaterAsync(FaultTracker tracker, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(tracker.Fault.HoldMs), cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the run stopped: continue at once
        }

        if (await ContinueAsync(tracker.Fault.Target).ConfigureAwait(false) is { } message)
        {
            tracker.Recovered(now(), tracker.OldPid, $"stopped {tracker.Fault.HoldMs} ms, then {message}");
        }
    }

    /// <summary>SIGCONT; the daemon's message, or null when the service had no process to continue (it was killed meanwhile).</summary>
    private async Task<string?> ContinueAsync(string target)
    {
        try
        {
            var message = await host.ActAsync(target, ServiceAction.Continue, CancellationToken.None).ConfigureAwait(false);
            lock (_lock)
            {
                _stopped.Remove(target);
            }

            return message.Contains("sent SIGCONT", StringComparison.Ordinal) ? "continued" : null;
        }
        catch (CliException)
        {
            return null;
        }
    }

    private async Task SwapAsync(FaultTracker tracker, string program, CancellationToken cancel)
    {
        try
        {
            tracker.Note("swap to " + program);
            var message = await host.SwapAsync(tracker.Fault.Target, program, 60, cancel).ConfigureAwait(false);
            tracker.Note(message);
        }
        catch (CliException e)
        {
            tracker.Skip("swap failed: " + e.Message);
        }
        catch (OperationCanceledException)
        {
            // the run stopped; the service watch decides whether it came back
        }
    }
}
