using System.Diagnostics;
using System.Text;

namespace Disagg.TestSupport;

/// <summary>
/// A real service program (out/bin/disagg-xenstored, disagg-netback, disagg-blkback, ...) started as the
/// supervisor would: with its environment, waited for until it prints its "ready" line, killed with SIGKILL or
/// stopped with SIGTERM, and started again with the same arguments. Its stderr (every run's) is kept for
/// failure messages. Always killed when disposed.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly string _program;
    private readonly string[] _args;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly StringBuilder _stderr = new();
    private Process? _process;

    public ServiceProcess(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        _program = program;
        _args = args.ToArray();
        _environment = environment ?? new Dictionary<string, string>();
    }

    public string StdErr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Waits until the program has written <paramref name="text"/> on stderr: its log lines are written by a
    /// background logger and captured asynchronously, so they can come after the ready line on stdout.
    /// </summary>
    public bool WaitForStdErr(string text, TimeSpan timeout) =>
        Eventually.Holds(() => StdErr.Contains(text, StringComparison.Ordinal), timeout.TotalSeconds);

    public int Pid => _process!.Id;

    public bool HasExited => _process is null || _process.HasExited;

    /// <summary>The line it printed when ready.</summary>
    public string? ReadyLine { get; private set; }

    /// <summary>Starts it and waits for a stdout line starting with "ready"; returns how long that took.</summary>
    public TimeSpan Start(TimeSpan? patience = null) => StartAsync(patience).GetAwaiter().GetResult();

    /// <summary>
    /// Starts it and waits for a stdout line starting with "ready"; returns how long that took. A program not ready
    /// within <paramref name="patience"/> (60 s unless given) is killed, and the TimeoutException carries its stderr.
    /// </summary>
    public async Task<TimeSpan> StartAsync(TimeSpan? patience = null)
    {
        var psi = new ProcessStartInfo(Path.IsPathRooted(_program) ? _program : RepoPaths.Program(_program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in _args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in _environment)
        {
            psi.Environment[k] = v;
        }

        var clock = Stopwatch.StartNew();
        var p = Process.Start(psi)!;
        _process = p;
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        var deadline = clock.Elapsed + (patience ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            string? line;
            try
            {
                // One deadline for the whole start, however many lines come before "ready".
                line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromTicks(Math.Max(0, (deadline - clock.Elapsed).Ticks))).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Kill();
                throw new TimeoutException($"{_program} not ready within {clock.Elapsed.TotalSeconds:F0} s:\n{StdErr}");
            }

            if (line is null)
            {
                await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException($"{_program} exited ({p.ExitCode}) before it was ready:\n{StdErr}");
            }

            if (line.StartsWith("ready", StringComparison.Ordinal))
            {
                ReadyLine = line;
                break;
            }
        }

        _ = p.StandardOutput.ReadToEndAsync(); // keep draining
        return clock.Elapsed;
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM; the exit code, or null if it did not exit within the bound.</summary>
    public int? Terminate(TimeSpan timeout)
    {
        if (_process is null || _process.HasExited)
        {
            return _process?.ExitCode;
        }

        Interop.ProcessSignals.Send(_process.Id, Interop.ProcessSignals.Sigterm);
        return _process.WaitForExit(timeout) ? _process.ExitCode : null;
    }

    /// <summary>Kills it; a second call does nothing.</summary>
    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        _process = null;
    }
}
