using System.Diagnostics;
using System.Globalization;

namespace Disagg.Toolstack.Host;

/// <summary>
/// `disagg-kernel serve` as the daemon's child: started with the host's pCPUs and memory, ready
/// once it prints "ready socket=... token=...". The token is the control domain's capability and
/// stays in this process. The kernel is not restarted when it dies: every guest died with it, and
/// the daemon says so rather than pretend.
/// </summary>
internal sealed class KernelChild : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Supervision.ServiceLogWriter _log;

    private KernelChild(Process process, Supervision.ServiceLogWriter log, string socket, string token)
    {
        _process = process;
        _log = log;
        Socket = socket;
        Token = token;
        Exited = process.WaitForExitAsync();
    }

    public string Socket { get; }

    public string Token { get; }

    public int Pid => _process.Id;

    /// <summary>Completes when the kernel process has exited (for whatever reason).</summary>
    public Task Exited { get; }

    public string ExitDescription => _process.HasExited
        ? _process.ExitCode > 128 ? $"killed by signal {_process.ExitCode - 128}" : $"exited with code {_process.ExitCode}"
        : "running";

    public static async Task<KernelChild> StartAsync(string program, string socket, int? pcpus, string memory, string logPath, CancellationToken cancel, string arch = "rv64")
    {
        if (!File.Exists(program))
        {
            throw new KernelStartException($"the kernel program {program} does not exist (run `make build`)");
        }

        var psi = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add("--socket");
        psi.ArgumentList.Add(socket);
        psi.ArgumentList.Add("--memory");
        psi.ArgumentList.Add(memory);
        psi.ArgumentList.Add("--arch");
        psi.ArgumentList.Add(arch);
        if (pcpus is { } n)
        {
            psi.ArgumentList.Add("--pcpus");
            psi.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
        }

        var log = new Supervision.ServiceLogWriter(logPath);
        var process = new Process { StartInfo = psi };
        try
        {
            ChildLauncher.Start(process);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.Dispose();
            throw new KernelStartException($"could not start {program}: {e.Message}");
        }

        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            log.Append(e.Data);
            lock (stderr)
            {
                if (stderr.Length < 4096 && e.Data is not null)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancel).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new KernelStartException("disagg-kernel did not say ready within 30 s");
        }

        var token = line?.Split(' ').FirstOrDefault(w => w.StartsWith("token=", StringComparison.Ordinal))?["token=".Length..];
        if (token is null)
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            string why;
            lock (stderr)
            {
                why = stderr.ToString().Trim();
            }

            log.Dispose();
            throw new KernelStartException($"disagg-kernel exited before it was ready: {(why.Length > 0 ? why : line ?? "no output")}");
        }

        log.Append(line);
        _ = Task.Run(async () =>
        {
            // The rest of stdout goes to the log (the first line was read synchronously, so no BeginOutputReadLine).
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None).ConfigureAwait(false) is { } more)
            {
                log.Append(more);
            }
        }, CancellationToken.None);
        return new KernelChild(process, log, socket, token);
    }

    /// <summary>SIGTERM (the kernel destroys every domain and exits 0), then SIGKILL after the timeout.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Signals.Terminate(_process.Id);
            try
            {
                await Exited.WaitAsync(timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _process.Kill();
                await Exited.ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _process.Dispose();
        _log.Dispose();
    }
}
