using System.Globalization;
using Disagg.Toolstack.Daemon;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Host;

/// <summary>
/// This daemon's hold on its state dir: the first hosted service to start (the dir made private,
/// refused when another live daemon holds it, the pid file written) and the very last to finish
/// stopping, when it removes every socket and the pid file, so a host leaves nothing behind.
/// </summary>
internal sealed class HostClaim(StateDir state, DaemonLog log) : IHostedLifecycleService
{
    private bool _claimed;

    public Task StartingAsync(CancellationToken cancel)
    {
        Directory.CreateDirectory(state.Path);
        File.SetUnixFileMode(state.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (PidFile.ReadLive(state.PidFile) is { } other && other != Environment.ProcessId)
        {
            throw new ToolstackException($"a host is already up in {state.Path} (daemon pid {other})");
        }

        File.WriteAllText(state.PidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        _claimed = true;
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancel) => Task.CompletedTask;

    /// <summary>Runs after every other service stopped (lifecycle services' Stopped runs last, in reverse order).</summary>
    public Task StoppedAsync(CancellationToken cancel)
    {
        if (!_claimed)
        {
            return Task.CompletedTask; // another daemon's dir: its sockets are not ours to remove
        }

        foreach (var leftover in new[] { state.KernelSocket, state.DaemonSocket, state.PidFile })
        {
            File.Delete(leftover);
        }

        foreach (var (name, _) in ServiceDomains.Builtin)
        {
            File.Delete(state.ServiceSocket(name));
        }

        log.HostDown();
        return Task.CompletedTask;
    }
}
