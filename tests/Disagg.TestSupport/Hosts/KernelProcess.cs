using System.Diagnostics;
using Disagg.Control;

namespace Disagg.TestSupport;

/// <summary>A real `disagg-kernel serve` in a temp dir, for tests and benchmarks; stopped with SIGTERM (then SIGKILL) when disposed.</summary>
public sealed class KernelProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private readonly System.Text.StringBuilder _stderr;

    private KernelProcess(Process process, string dir, string socket, string token, System.Text.StringBuilder stderr)
    {
        _stderr = stderr;
        _process = process;
        _dir = dir;
        Socket = socket;
        Token = token;
    }

    public string Socket { get; }

    /// <summary>What the kernel wrote on stderr so far (for failure messages).</summary>
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

    public string Token { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the kernel; <paramref name="engine"/> ("interp" or "translate") is its --engine, null for its default.</summary>
    public static async Task<KernelProcess> StartAsync(int pcpus = 2, string memory = "256M", string? engine = null)
    {
        var dir = Directory.CreateTempSubdirectory("disagg-kernel-").FullName;
        var socket = Path.Combine(dir, "kernel.sock");
        var psi = new ProcessStartInfo(RepoPaths.Program("disagg-kernel"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "serve", "--socket", socket, "--pcpus", pcpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--memory", memory })
        {
            psi.ArgumentList.Add(a);
        }

        if (engine is not null)
        {
            psi.ArgumentList.Add("--engine");
            psi.ArgumentList.Add(engine);
        }

        var p = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false)
            ?? throw new InvalidOperationException("disagg-kernel exited before it was ready: " + stderr);
        var token = line.Split(' ').Single(w => w.StartsWith("token=", StringComparison.Ordinal))["token=".Length..];
        return new KernelProcess(p, dir, socket, token, stderr);
    }

    public Task<KernelClient> ConnectAsync(string? token = null) => KernelClient.ConnectAsync(Socket, token ?? Token);

    /// <summary>SIGTERM, as a toolstack stops the kernel; true if it exited by itself in time.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        Disagg.Interop.ProcessSignals.Send(_process.Id, Disagg.Interop.ProcessSignals.Sigterm);

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited && !await TerminateAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
