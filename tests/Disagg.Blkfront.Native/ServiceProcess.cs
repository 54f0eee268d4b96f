using System.Diagnostics;
using System.Text;

namespace Disagg.Blkfront.Native;

/// <summary>
/// A real program from out/bin (disagg-xenstored, disagg-blkback) started as the supervisor would: with its
/// environment, waited for until it prints "ready", killed with SIGKILL and started again on demand. Always
/// killed when disposed.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly string _program;
    private readonly string[] _args;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly StringBuilder _stderr = new();
    private Process? _process;

    public ServiceProcess(string program, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        _program = Disagg.TestSupport.RepoPaths.Program(program);
        _args = args;
        _environment = environment ?? new Dictionary<string, string>();
    }

    /// <summary>Everything every run of the program wrote on stderr (for failure messages).</summary>
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

    /// <summary>The "ready ..." line of the last start.</summary>
    public string ReadyLine { get; private set; } = "";

    public int Pid => _process?.Id ?? 0;

    public bool Running => _process is { HasExited: false };

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(_program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in _args)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in _environment)
        {
            psi.Environment[k] = v;
        }

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
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            string? line;
            try
            {
                line = await p.StandardOutput.ReadLineAsync(cancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill();
                throw new TimeoutException($"{Path.GetFileName(_program)} not ready in time: {StdErr}");
            }

            if (line is null)
            {
                await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException($"{Path.GetFileName(_program)} exited {p.ExitCode} before it was ready: {StdErr}");
            }

            if (line.StartsWith("ready", StringComparison.Ordinal))
            {
                ReadyLine = line;
                _ = DrainAsync(p);
                return;
            }
        }
    }

    /// <summary>SIGKILL, as a crash would; waits until the process is gone.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>SIGTERM and the exit code (a stuck process is killed after the timeout).</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        var p = _process!;
        if (!p.HasExited)
        {
            Disagg.Interop.ProcessSignals.Send(p.Id, Disagg.Interop.ProcessSignals.Sigterm);
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await p.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        return p.ExitCode;
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }

    private static async Task DrainAsync(Process p)
    {
        try
        {
            while (await p.StandardOutput.ReadLineAsync().ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }
}
