using System.Diagnostics;
using System.Globalization;
using System.Text;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;

namespace Disagg.PvGuest.Tests;

/// <summary>
/// One real `disagg-kernel serve` in a temp dir per test class, with a control client subscribed to
/// domain events; stopped with SIGTERM (then SIGKILL) when the class is done.
/// </summary>
public sealed class KernelHost : IAsyncLifetime
{
    private Process _process = null!;
    private string _dir = null!;

    public KernelClient Control { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("disagg-pvos-").FullName;
        var socket = Path.Combine(_dir, "kernel.sock");
        var psi = new ProcessStartInfo(RepoPaths.Program("disagg-kernel"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "serve", "--socket", socket, "--pcpus", "2", "--memory", "256M" })
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        var line = await _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30))
            ?? throw new InvalidOperationException("disagg-kernel exited before it was ready: " + await _process.StandardError.ReadToEndAsync());
        var token = line.Split(' ').Single(w => w.StartsWith("token=", StringComparison.Ordinal))["token=".Length..];
        Control = await KernelClient.ConnectAsync(socket, token);
        await Control.CallAsync<OkReply>(new Subscribe());
    }

    public async Task DisposeAsync()
    {
        await Control.DisposeAsync();
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The kernel message log: every guest line is "(dN) text".</summary>
    public async Task<string> DmesgAsync()
    {
        var chunk = await Control.CallAsync<MessageLogChunk>(new ReadMessageLog(0, 1 << 20));
        return Encoding.UTF8.GetString(chunk.Text);
    }
}
