using System.Diagnostics;
using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Fault.Report;
using Disagg.Toolstack.Fault.Schedule;
using Disagg.Toolstack.Fault.Workload;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Fault;

/// <summary>
/// One fault run: the kernel's counters, the workload guests (its own or the host's), then the seeded schedule
/// injected while four loops watch — services (a faulted one serving again), consoles (pings, blk-verify,
/// heartbeats), xenstore canaries, and the invariant checks. The first violation stops the run; either way the
/// stopped services are continued, the run settles, its own guests go, the counters are compared, and the
/// report is built. Watch state is shared between the loops under one lock (none of this is a hot path).
/// </summary>
internal sealed class FaultRunner(HostLink host, FaultRunOptions options, TextWriter log)
{
    private readonly Stopwatch _clock = new();
    private readonly object _lock = new();
    private readonly List<GuestWatch> _guests = [];
    private readonly List<FaultTracker> _faults = [];
    private readonly Dictionary<string, (string Evidence, long AtMs)> _breaches = [];
    private readonly CancellationTokenSource _stop = new();
    private Violation? _violation;

    /// <summary>I/O errors the run's channel faults may show a guest (blkback's injected EIOs and copy errors): expected, not a breach.</summary>
    private int _ioErrorsInjected;

    /// <summary>How long a fault waits for its target to run again before it is skipped.</summary>
    private static readonly TimeSpan TargetPatience = TimeSpan.FromSeconds(5);

    private long Now => _clock.ElapsedMilliseconds;

    private long NetBoundMs => (long)options.MaxNetOutage.TotalMilliseconds;

    public async Task<FaultReport> RunAsync(CancellationToken cancel)
    {
        var services = await host.ServicesAsync(cancel).ConfigureAwait(false);
        FaultPlan plan;
        try
        {
            plan = options.Plan with { Targets = FaultPlan.Resolve(options.Plan.Targets, [.. services.Select(s => s.Name)]) };
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message);
        }

        var schedule = FaultSchedule.Build(plan);
        var startedAt = DateTimeOffset.UtcNow;
        var injection = await InjectionHostAsync(cancel).ConfigureAwait(false);
        if (!injection && plan.Kinds.FirstOrDefault(FaultKinds.IsChannelFault) is var channel && FaultKinds.IsChannelFault(channel))
        {
            throw new CliException($"--faults {channel.Name()} is a channel fault: it needs a host started with `disagg host up --fault-injection` (this one was not)");
        }

        var before = LeakCheck.Snapshot(await host.CountersAsync(cancel).ConfigureAwait(false));
        WorkloadGuests? own = null;
        if (!options.UseExisting)
        {
            var pvos = options.GuestKernel ?? WorkloadGuests.FindPvos() ?? throw new CliException("cannot find guests/build/rv64/pvos.elf for the workload guests: give --guest-kernel PATH (or --use-existing)");
            own = new WorkloadGuests(host, Path.Combine(options.ReportDir, "workload"), pvos);
        }

        var canaries = new XenstoreCanaries(host.State.ServiceSocket("xenstored"), $"/tool/disagg-fault/seed-{plan.Seed}");
        var injector = new FaultInjector(host, () => Now, realSegv: injection);
        var leakCheckable = true;
        try
        {
            await canaries.RemoveAsync(cancel).ConfigureAwait(false); // a previous run's, same seed
            if (own is not null)
            {
                await own.StartAsync(cancel).ConfigureAwait(false);
            }

            _clock.Start();
            await WatchGuestsAsync(own is not null, cancel).ConfigureAwait(false);
            _clock.Restart(); // the schedule counts from here: the workload is up
            log.WriteLine($"fault: seed {plan.Seed}: {schedule.Count} faults over {plan.Duration.TotalSeconds:0.#} s; watching {_guests.Count} guests; canaries under {canaries.Root}");
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, _stop.Token);
            var loops = new[] { MonitorLoopAsync(linked.Token), CanaryLoopAsync(canaries, linked.Token), CheckLoopAsync(linked.Token) };
            await InjectLoopAsync(schedule, injector, linked.Token).ConfigureAwait(false);
            await injector.ContinueAllAsync().ConfigureAwait(false);
            await DisarmAsync(plan).ConfigureAwait(false);
            if (_violation is null)
            {
                await SettleAsync(canaries, linked.Token).ConfigureAwait(false);
            }

            await _stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Breach(Invariants.Services, "the run was interrupted");
            leakCheckable = false;
        }
        finally
        {
            await injector.ContinueAllAsync().ConfigureAwait(false);
            await canaries.RemoveAsync(CancellationToken.None).ConfigureAwait(false);
            await canaries.DisposeAsync().ConfigureAwait(false);
            if (own is not null)
            {
                foreach (var problem in await own.StopAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    log.WriteLine("fault: " + problem);
                }
            }
        }

        var elapsed = Now;
        CountersCheck? counters = null;
        if (leakCheckable)
        {
            (counters, var leaked) = await LeakCheck.RunAsync(host, before).ConfigureAwait(false);
            if (leaked is not null)
            {
                Breach(Invariants.Leaks, leaked);
            }
        }

        lock (_lock)
        {
            return ReportBuilder.Build(new RunPlan(plan.Targets, plan.Kinds, (long)plan.Every.TotalMilliseconds, (long)plan.Duration.TotalMilliseconds, plan.Seed, options.UseExisting, NetBoundMs, (long)options.Heartbeat.TotalMilliseconds), schedule, startedAt, elapsed, _guests, _faults, _breaches, _violation, canaries, counters);
        }
    }

    /// <summary>Whether the host was started with --fault-injection (its daemon forwards channel faults).</summary>
    private async Task<bool> InjectionHostAsync(CancellationToken cancel)
    {
        try
        {
            await host.InjectAsync("", Disagg.Control.Messages.ChannelFaultKind.RingDelay, 0, 0, cancel).ConfigureAwait(false);
            return true;
        }
        catch (CliException)
        {
            return false;
        }
    }

    /// <summary>Disarms the channel faults that did not fire (their service idle, or restarted since): none outlives the run.</summary>
    private async Task DisarmAsync(FaultPlan plan)
    {
        foreach (var target in plan.Targets)
        {
            foreach (var kind in plan.Kinds.Where(k => FaultKinds.IsChannelFault(k) && FaultKinds.AppliesTo(k, target)))
            {
                try
                {
                    await host.InjectAsync(target, FaultKinds.Channel(kind).Kind, 0, 0, CancellationToken.None).ConfigureAwait(false);
                }
                catch (CliException e)
                {
                    log.WriteLine($"fault: could not disarm {kind.Name()} in {target}: {e.Message}");
                }
            }
        }
    }

    /// <summary>Records an invariant's first breach; the first of the run is the violation that stops it.</summary>
    private void Breach(string invariant, string evidence)
    {
        lock (_lock)
        {
            if (!_breaches.TryAdd(invariant, (evidence, Now)) || _violation is not null)
            {
                return;
            }

            _violation = new Violation(invariant, Now, evidence);
        }

        log.WriteLine($"fault: VIOLATION at {Now / 1000.0:0.0} s: {invariant}: {evidence}");
        _stop.Cancel();
    }

    /// <summary>Finds the guests to watch and, for its own, waits until each pings or verifies.</summary>
    private async Task WatchGuestsAsync(bool own, CancellationToken cancel)
    {
        var domains = await host.DomainsAsync(cancel).ConfigureAwait(false);
        foreach (var d in domains.Where(d => d.Id != 0 && (!own || WorkloadGuests.Roles.Any(r => r.Name == d.Name))))
        {
            _guests.Add(new GuestWatch(d.Name, host.State.ConsoleLog(d.Name), WorkloadGuests.PingIntervalMs));
        }

        if (!own)
        {
            return;
        }

        var deadline = Now + (long)FaultRunOptions.StartBound.TotalMilliseconds;
        while (true)
        {
            foreach (var g in _guests)
            {
                g.Poll(Now);
            }

            var waiting = _guests.Where(g => !(g.Ping.Active || g.Blk.Active)).Select(g => g.Name).ToList();
            if (waiting.Count == 0)
            {
                return;
            }

            if (Now > deadline)
            {
                throw new CliException($"the workload did not start within {FaultRunOptions.StartBound.TotalSeconds:0} s: no ping reply or blk-verify line from {string.Join(", ", waiting)} (see their consoles in {host.State.ConsoleDir})");
            }

            await Task.Delay(250, cancel).ConfigureAwait(false);
        }
    }

    private async Task InjectLoopAsync(IReadOnlyList<ScheduledFault> schedule, FaultInjector injector, CancellationToken cancel)
    {
        try
        {
            foreach (var fault in schedule)
            {
                await DelayUntilAsync(fault.AtMs, cancel).ConfigureAwait(false);
                var row = await RunningOrAfterAWhileAsync(fault.Target, cancel).ConfigureAwait(false);
                long reissued;
                lock (_lock)
                {
                    reissued = _guests.Sum(g => g.Blk.Reissued);
                }

                var tracker = await injector.InjectAsync(fault, row, reissued, cancel).ConfigureAwait(false);
                lock (_lock)
                {
                    _faults.Add(tracker);
                    if (!tracker.Skipped)
                    {
                        _ioErrorsInjected += FaultKinds.GuestIoErrors(fault.Kind, fault.Target);
                    }
                }

                log.WriteLine($"fault: {tracker.AtMs / 1000.0,6:0.0} s  #{fault.Index} {fault.Kind.Name()} {fault.Target}{(fault.HoldMs > 0 ? $" for {fault.HoldMs} ms" : "")}: {tracker.Status}");
            }

            await DelayUntilAsync((long)options.Plan.Duration.TotalMilliseconds, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // a violation stopped the run
        }
    }

    /// <summary>
    /// The target's row once it runs: a target still restarting from an earlier fault (a JIT start on a loaded host
    /// takes seconds) is waited for up to <see cref="TargetPatience"/>, then the fault is skipped as it stands.
    /// </summary>
    private async Task<ServiceRow?> RunningOrAfterAWhileAsync(string target, CancellationToken cancel)
    {
        var deadline = Now + (long)TargetPatience.TotalMilliseconds;
        while (true)
        {
            var row = (await host.ServicesAsync(cancel).ConfigureAwait(false)).FirstOrDefault(s => s.Name == target);
            if (row is null or { State: "running", Pid: not null } || Now >= deadline)
            {
                return row;
            }

            await Task.Delay(100, cancel).ConfigureAwait(false);
        }
    }

    private async Task DelayUntilAsync(long atMs, CancellationToken cancel)
    {
        var wait = atMs - Now;
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(wait), cancel).ConfigureAwait(false);
        }
    }

    /// <summary>Services every 100 ms (a faulted one serving again under a new pid), consoles every 250 ms.</summary>
    private async Task MonitorLoopAsync(CancellationToken cancel)
    {
        var nextConsole = 0L;
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await PollServicesAsync(cancel).ConfigureAwait(false);
                if (Now >= nextConsole)
                {
                    PollConsoles();
                    nextConsole = Now + 250;
                }

                await Task.Delay(100, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (CliException e)
            {
                log.WriteLine($"fault: the daemon did not answer a poll: {e.Message}");
            }
        }
    }

    private async Task PollServicesAsync(CancellationToken cancel)
    {
        FaultTracker[] pending;
        lock (_lock)
        {
            pending = [.. _faults.Where(f => f.Pending)];
        }

        if (pending.Length == 0)
        {
            return;
        }

        var rows = await host.ServicesAsync(cancel).ConfigureAwait(false);
        foreach (var f in pending)
        {
            if (rows.FirstOrDefault(r => r.Name == f.Fault.Target) is { State: "running", Pid: { } pid } && pid != f.OldPid)
            {
                f.Recovered(Now, pid);
            }
        }
    }

    private void PollConsoles()
    {
        lock (_lock)
        {
            foreach (var g in _guests)
            {
                g.Poll(Now);
            }
        }
    }

    /// <summary>A canary every 500 ms; every acknowledged one read back every 2 s.</summary>
    private async Task CanaryLoopAsync(XenstoreCanaries canaries, CancellationToken cancel)
    {
        var nextCheck = 2000L;
        try
        {
            while (!cancel.IsCancellationRequested)
            {
                await canaries.WriteNextAsync(cancel).ConfigureAwait(false);
                if (Now >= nextCheck)
                {
                    if (await canaries.CheckAsync(cancel).ConfigureAwait(false) is { } lost)
                    {
                        Breach(Invariants.Xenstore, lost);
                    }

                    nextCheck = Now + 2000;
                }

                await Task.Delay(500, cancel).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the run is over
        }
    }

    /// <summary>Every second: each guest listed and alive, and the workloads' invariants.</summary>
    private async Task CheckLoopAsync(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(1000, cancel).ConfigureAwait(false);
                var domains = await host.DomainsAsync(cancel).ConfigureAwait(false);
                foreach (var (invariant, evidence) in Check(domains))
                {
                    Breach(invariant, evidence);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (CliException e)
            {
                log.WriteLine($"fault: the daemon did not answer a check: {e.Message}");
            }
        }
    }

    private List<(string Invariant, string Evidence)> Check(IReadOnlyList<DomainRow> domains)
    {
        var broken = new List<(string, string)>();
        var now = Now;
        lock (_lock)
        {
            foreach (var g in _guests)
            {
                g.LastState = domains.FirstOrDefault(d => d.Name == g.Name)?.State;
                if (g.WhyNotAlive(now, (long)options.Heartbeat.TotalMilliseconds) is { } why)
                {
                    broken.Add((Invariants.Guests, why));
                }

                if (g.Blk.Evidence.Count > 0 || g.Blk.Mismatches > 0 || g.Blk.Errors > _ioErrorsInjected)
                {
                    var errors = g.Blk.Errors > _ioErrorsInjected ? g.Blk.ErrorLines : [];
                    broken.Add((Invariants.Storage, $"{g.Name}: {g.Blk.Mismatches} mismatches, {g.Blk.Errors} errors ({_ioErrorsInjected} injected): {string.Join(" | ", g.Blk.Evidence.Concat(errors))}"));
                }

                if (g.Ping.Active && g.Ping.MaxWindowMs > NetBoundMs)
                {
                    var w = g.Ping.Windows.MaxBy(w => w.EndMs - w.StartMs)!;
                    broken.Add((Invariants.Network, $"{g.Name}: {w.Lost} pings lost over {w.EndMs - w.StartMs} ms from {w.StartMs / 1000.0:0.0} s (bound {NetBoundMs} ms)"));
                }

                if (g.Ping.Active && g.Ping.SilentMs(now) > NetBoundMs)
                {
                    broken.Add((Invariants.Network, $"{g.Name}: no reply for {g.Ping.SilentMs(now)} ms: the link is wedged (bound {NetBoundMs} ms)"));
                }
            }

            foreach (var f in _faults.Where(f => f.Pending && now - f.AtMs > FaultRunOptions.RecoveryBound.TotalMilliseconds))
            {
                broken.Add((Invariants.Services, $"{f.Fault.Target} did not serve again within {FaultRunOptions.RecoveryBound.TotalSeconds:0} s of fault #{f.Fault.Index} ({f.Fault.Kind.Name()})"));
            }
        }

        return broken;
    }

    /// <summary>
    /// After the last fault: every faulted service serves, each pinging guest has replies again after the last
    /// recovery, each blk-verify completes a pass begun after it, and every canary reads back.
    /// </summary>
    private async Task SettleAsync(XenstoreCanaries canaries, CancellationToken cancel)
    {
        try
        {
            var bound = Now + (long)FaultRunOptions.RecoveryBound.TotalMilliseconds;
            while (_faults.Any(f => f.Pending) && Now < bound)
            {
                await Task.Delay(100, cancel).ConfigureAwait(false);
            }

            long lastRecovery;
            lock (_lock)
            {
                lastRecovery = _faults.Select(f => f.RecoveredAtMs ?? 0).DefaultIfEmpty(0).Max();
            }

            var settleBound = Now + Math.Max(NetBoundMs, 60_000);
            while (Now < settleBound && !Settled(lastRecovery, out _))
            {
                await Task.Delay(250, cancel).ConfigureAwait(false);
            }

            if (!Settled(lastRecovery, out var why))
            {
                Breach(why.StartsWith("blk", StringComparison.Ordinal) ? Invariants.Storage : Invariants.Network, why);
            }

            if (await canaries.CheckAsync(cancel).ConfigureAwait(false) is { } lost)
            {
                Breach(Invariants.Xenstore, lost);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // a violation during settling stopped it
        }
    }

    private bool Settled(long lastRecovery, out string why)
    {
        lock (_lock)
        {
            foreach (var g in _guests)
            {
                if (g.Ping.Active && g.Ping.LastReplyMs <= lastRecovery)
                {
                    why = $"network: {g.Name} has had no ping reply since the last fault's recovery at {lastRecovery / 1000.0:0.0} s";
                    return false;
                }

                if (g.Blk.Active && g.Blk.LastPassMs <= lastRecovery)
                {
                    why = $"blk-verify on {g.Name} completed no pass since the last fault's recovery at {lastRecovery / 1000.0:0.0} s";
                    return false;
                }
            }
        }

        why = "";
        return true;
    }
}
