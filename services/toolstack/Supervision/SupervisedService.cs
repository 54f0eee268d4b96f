using System.Diagnostics;
using System.Globalization;

namespace Disagg.Toolstack.Supervision;

/// <summary>
/// Keeps one service domain's process alive: starts it, waits until it serves, and when it
/// exits without being asked to, restarts it under its <see cref="RestartPolicy"/>, recording
/// when, why, and how long it was down. A swap is the same path with a planned stop: the next
/// process runs another binary (same arguments, environment, domain id); if that binary cannot
/// start or dies before it serves, the previous binary is started again.
/// </summary>
public sealed class SupervisedService : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly List<DateTimeOffset> _recentDeaths = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<RestartRecord> _onRestart;
    private Process? _process;
    private int? _servicePid;
    private ServiceLogWriter? _log;
    private LastWords _lastWords = new();
    private DateTimeOffset _startedAt;
    private ServiceState _state = ServiceState.Starting;
    private int _restarts;
    private string? _lastExit;
    private bool _plannedRestart;
    private string _program;
    private int _swaps;
    private Swap? _swap;
    private Task? _loop;
    private DateTimeOffset? _killSentAt;
    private TaskCompletionSource _readyLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SupervisedService(ServiceSpec spec, Action<RestartRecord>? onRestart = null)
    {
        Spec = spec;
        _program = spec.Program;
        _onRestart = onRestart ?? (_ => { });
    }

    /// <summary>How long a planned stop waits after SIGTERM before it sends SIGKILL.</summary>
    public static TimeSpan StopGrace { get; } = TimeSpan.FromSeconds(3);

    public ServiceSpec Spec { get; }

    /// <summary>Completes when the current process serves (reset at each restart).</summary>
    public Task Ready
    {
        get
        {
            lock (_lock)
            {
                return _ready.Task;
            }
        }
    }

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>SIGKILL, for fault injection: the supervisor treats it as a crash and restarts the service.</summary>
    public bool Kill()
    {
        lock (_lock)
        {
            // The downtime of a kill we deliver counts from the signal, not from when we notice the exit.
            _killSentAt = DateTimeOffset.UtcNow;
            return ServicePidLocked() is { } pid && pid != _process!.Id
                ? Disagg.Interop.ProcessSignals.Send(pid, Disagg.Interop.ProcessSignals.Sigkill)
                : TryKill(_process); // not sandboxed, or not exec'd yet: the launcher's death ends its namespace
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the running process, for fault injection (SIGSTOP, SIGCONT, SIGSEGV);
    /// false when there is none. A fatal one is a crash like any other, and its downtime counts from the signal.
    /// </summary>
    public bool Signal(int signal)
    {
        lock (_lock)
        {
            if (ServicePidLocked() is not { } pid)
            {
                return false;
            }

            if (signal == Disagg.Interop.ProcessSignals.Sigsegv)
            {
                _killSentAt = DateTimeOffset.UtcNow;
            }

            return Disagg.Interop.ProcessSignals.Send(pid, signal);
        }
    }

    /// <summary>
    /// A planned restart (`disagg service restart`): SIGTERM, so the service finishes what it acknowledged
    /// (SIGKILL only after <see cref="StopGrace"/>), then started again at once. It is not a crash: it does
    /// not count against the policy nor in the restarts shown, and its record says it was planned.
    /// </summary>
    public bool Restart()
    {
        Process? running;
        int target;
        lock (_lock)
        {
            running = _process is { HasExited: false } p ? p : null;
            if (running is null)
            {
                return false;
            }

            target = ServicePidLocked() ?? running.Id;
            _plannedRestart = true;
        }

        _ = StopAsync(running, target);
        return true;
    }

    /// <summary>
    /// A planned stop (SIGTERM, SIGKILL after <see cref="StopGrace"/>) and a start of <paramref name="program"/>
    /// in its place. Completes with the new process's pid once it serves; fails, with the previous binary
    /// started again, when the new one cannot start or exits before it serves.
    /// </summary>
    public Task<int> SwapAsync(string program)
    {
        Process? running;
        int target;
        Swap swap;
        lock (_lock)
        {
            if (_swap is not null)
            {
                throw new InvalidOperationException($"a swap to {_swap.To} is already under way");
            }

            running = _process is { HasExited: false } p ? p : null;
            if (running is null || _state != ServiceState.Running)
            {
                throw new InvalidOperationException($"it is {_state.ToString().ToLowerInvariant()}, not running");
            }

            target = ServicePidLocked() ?? running.Id;
            swap = new Swap(_program, program);
            _swap = swap;
            _plannedRestart = true;
        }

        _ = StopAsync(running, target);
        return swap.Done.Task;
    }

    public ServiceStatus Status()
    {
        lock (_lock)
        {
            var pid = ServicePidLocked();
            var uptime = pid is null ? TimeSpan.Zero : DateTimeOffset.UtcNow - _startedAt;
            return new ServiceStatus(Spec.Name, Spec.DomainId, pid, _state, uptime, _restarts, _swaps, _program, pid is { } id ? RssBytes(id) : 0, _lastExit);
        }
    }

    /// <summary>Stops supervising and ends the process.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        lock (_lock)
        {
            TryKill(_process);
        }

        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        lock (_lock)
        {
            _state = ServiceState.Stopped;
        }

        _stop.Dispose();
    }

    /// <summary>
    /// SIGTERM to the service (<paramref name="service"/>: its own pid, below the launcher <paramref name="p"/> in a PID
    /// namespace), so it can finish what it acknowledged; SIGKILL if it is still there after the grace.
    /// </summary>
    private static async Task StopAsync(Process p, int service)
    {
        try
        {
            if (!Disagg.Interop.ProcessSignals.Send(service, Disagg.Interop.ProcessSignals.Sigterm))
            {
                TryKill(p);
                return;
            }

            await p.WaitForExitAsync(new CancellationTokenSource(StopGrace).Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            TryKill(p);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static bool TryKill(Process? p)
    {
        try
        {
            if (p is { HasExited: false })
            {
                p.Kill();
                return true;
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill: nothing to do.
        }

        return false;
    }

    private static long RssBytes(int pid)
    {
        try
        {
            var statm = File.ReadAllText($"/proc/{pid}/statm").Split(' ');
            return long.Parse(statm[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (IOException)
        {
            return 0; // it just exited
        }
    }

    private static string DescribeExit(int code) => code > 128 && code < 128 + 65
        ? $"killed by signal {code - 128}{code switch
        {
            137 => " (SIGKILL)",
            143 => " (SIGTERM)",
            159 => " (SIGSYS: a system call outside its seccomp allow-list)",
            _ => "",
        }}"
        : $"exited with code {code}";

    private async Task RunAsync()
    {
        DateTimeOffset? diedAt = null;
        string? cause = null;
        var backoff = TimeSpan.Zero;
        var planned = false;
        DateTimeOffset? servedAt = null;
        while (!_stop.IsCancellationRequested)
        {
            Process process;
            try
            {
                process = Launch();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                lock (_lock)
                {
                    if (SwapFailedLocked($"could not start {_program}: {e.Message}"))
                    {
                        continue;
                    }

                    _state = ServiceState.Failed;
                    _lastExit = $"could not start {_program}: {e.Message}";
                }

                return;
            }

            if (Spec.ReadyLinePrefix is not null)
            {
                await WaitReadyLineAsync(process).ConfigureAwait(false);
            }

            if (Spec.ReadinessProbe is { } probe)
            {
                await WaitReadyAsync(process, probe).ConfigureAwait(false);
            }

            var serving = false;
            servedAt = null;
            lock (_lock)
            {
                if (!process.HasExited)
                {
                    serving = true;
                    servedAt = DateTimeOffset.UtcNow;
                    _state = ServiceState.Running;
                    _ready.TrySetResult();
                    if (_swap is { } swap && swap.Started)
                    {
                        _swap = null;
                        swap.Done.TrySetResult(ServicePidLocked() ?? process.Id);
                    }
                }
            }

            if (serving && diedAt is { } died)
            {
                _onRestart(new RestartRecord(Spec.Name, died, cause!, DateTimeOffset.UtcNow - died, backoff, planned));
            }

            // Returns once the process exited and its output was drained, so the log is complete.
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            diedAt = DateTimeOffset.UtcNow;
            lock (_lock)
            {
                if (_killSentAt is { } sent && diedAt - sent < TimeSpan.FromSeconds(5))
                {
                    diedAt = sent;
                }

                _killSentAt = null;
            }

            _log?.Dispose();
            TimeSpan delay;
            lock (_lock)
            {
                cause = DescribeExit(process.ExitCode);
                _lastExit = cause;
                _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_stop.IsCancellationRequested)
                {
                    _swap?.Done.TrySetException(new InvalidOperationException("the host is going down"));
                    return;
                }

                if (_swap is { Started: false } swap)
                {
                    // The planned stop of a swap: the next process runs the new binary; not a crash, not a restart.
                    _plannedRestart = false;
                    _program = swap.To;
                    swap.Started = true;
                    _swaps++;
                    cause = $"planned swap to {swap.To}";
                    _lastExit = cause;
                    _state = ServiceState.Restarting;
                    backoff = TimeSpan.Zero;
                    planned = true;
                    continue;
                }

                var said = _lastWords.ToString();
                if (SwapFailedLocked($"it {cause} before it was ready{(said.Length > 0 ? ": " + said : "")}"))
                {
                    cause = $"swap to {_lastExit}";
                    _state = ServiceState.Restarting;
                    backoff = TimeSpan.Zero;
                    planned = false;
                    continue;
                }

                planned = _plannedRestart;
                if (_plannedRestart)
                {
                    _plannedRestart = false;
                    cause = "planned restart";
                    _lastExit = $"planned restart ({DescribeExit(process.ExitCode)})";
                    delay = TimeSpan.Zero;
                }
                else if (Spec.Restart.WasHealthy(servedAt, diedAt.Value))
                {
                    // It was serving, not looping: back at once, and a later crash loop is counted from scratch.
                    _recentDeaths.Clear();
                    delay = TimeSpan.Zero;
                }
                else
                {
                    _recentDeaths.RemoveAll(t => diedAt - t > Spec.Restart.Window);
                    if (_recentDeaths.Count >= Spec.Restart.MaxRestarts)
                    {
                        _state = ServiceState.Failed;
                        _lastExit = $"{cause}; gave up after {_recentDeaths.Count} restarts in {Spec.Restart.Window.TotalSeconds:0} s";
                        return;
                    }

                    delay = Spec.Restart.DelayFor(_recentDeaths.Count);
                    _recentDeaths.Add(diedAt.Value);
                }

                if (!planned)
                {
                    _restarts++;
                }

                _state = ServiceState.Restarting;
            }

            backoff = delay;
            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The swapped-in binary failed before it served: back to the previous one, at once. Caller holds the lock.</summary>
    private bool SwapFailedLocked(string why)
    {
        if (_swap is not { Started: true } swap)
        {
            return false;
        }

        _swap = null;
        _program = swap.From;
        _swaps--;
        _lastExit = $"{swap.To} failed ({why}); back to {swap.From}";
        swap.Done.TrySetException(new InvalidOperationException($"{swap.To}: {why}; {swap.From} was started again"));
        return true;
    }

    private Process Launch()
    {
        var psi = new ProcessStartInfo(Spec.Sandbox?.Launcher ?? _program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (Spec.Sandbox is { } sandbox)
        {
            foreach (var a in sandbox.LauncherArguments(_program))
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var (k, v) in ServiceSandbox.Environment)
            {
                psi.Environment[k] = v;
            }
        }

        foreach (var a in Spec.Arguments)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in Spec.Environment)
        {
            psi.Environment[k] = v;
        }

        var p = new Process { StartInfo = psi };
        var log = Spec.LogFile is null ? null : new ServiceLogWriter(Spec.LogFile);
        var readyLine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            log?.Append(e.Data);
            if (Spec.ReadyLinePrefix is { } prefix && e.Data is { } line && line.StartsWith(prefix, StringComparison.Ordinal))
            {
                readyLine.TrySetResult();
            }
        };
        var lastWords = new LastWords();
        p.ErrorDataReceived += (_, e) =>
        {
            log?.Append(e.Data);
            lastWords.Add(e.Data);
        };
        Host.ChildLauncher.Start(p);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        lock (_lock)
        {
            _process?.Dispose();
            _process = p;
            _servicePid = null;
            _log = log;
            _lastWords = lastWords;
            _readyLine = readyLine;
            _startedAt = DateTimeOffset.UtcNow;
            _state = ServiceState.Starting;
        }

        return p;
    }

    /// <summary>
    /// The running service's own pid, null when none runs: the process started, or, with a PID namespace, the
    /// service below its launcher once it has exec'd (<see cref="LauncherTree"/>; found once per process). Caller holds the lock.
    /// </summary>
    private int? ServicePidLocked()
    {
        if (_process is not { HasExited: false } p)
        {
            return null;
        }

        if (Spec.Sandbox is not { PidNamespace: true })
        {
            return p.Id;
        }

        return _servicePid ??= LauncherTree.ServicePid(p.Id);
    }

    /// <summary>A swap under way: From is running until its planned stop, then To is started (Started).</summary>
    private sealed class Swap(string from, string to)
    {
        public string From { get; } = from;

        public string To { get; } = to;

        public bool Started { get; set; }

        public TaskCompletionSource<int> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Waits for the ready line, or for the process to exit without printing it.</summary>
    private async Task WaitReadyLineAsync(Process process)
    {
        Task readyLine;
        lock (_lock)
        {
            readyLine = _readyLine.Task;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var exited = process.WaitForExitAsync(stop.Token);
        await Task.WhenAny(readyLine, exited).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // it is running and ready: the main loop waits for its exit
        }
    }

    private async Task WaitReadyAsync(Process process, Func<CancellationToken, Task<bool>> probe)
    {
        var delay = TimeSpan.FromMilliseconds(1);
        while (!process.HasExited && !_stop.IsCancellationRequested)
        {
            try
            {
                if (await probe(_stop.Token).ConfigureAwait(false))
                {
                    return;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                // not serving yet
            }

            await Task.Delay(delay, CancellationToken.None).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(50).Ticks));
        }
    }
}
