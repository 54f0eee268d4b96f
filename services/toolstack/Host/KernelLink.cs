using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Host;

/// <summary>
/// The host's kernel and the control domain's connection to it: the first hosted service to
/// start (`disagg-kernel serve` as a child, then Hello, Subscribe and the host's figures) and the
/// last to stop. The kernel is not restarted when it dies: every guest died with it, and
/// <see cref="Client"/> says so from then on rather than pretend.
/// </summary>
internal sealed class KernelLink(StateDir state, HostConfig config, DaemonLog log) : IHostedService
{
    private readonly TaskCompletionSource<string> _died = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KernelChild? _child;
    private KernelClient? _client;
    private HostInfo? _info;
    private Task _watcher = Task.CompletedTask;
    private volatile string? _death;
    private volatile bool _stopping;

    /// <summary>The kernel's control connection, or a plain error while it starts or after it died.</summary>
    public KernelClient Client => _death is { } death
        ? throw new ToolstackException($"the kernel {death}; start a new host with `disagg host down` then `disagg host up`")
        : _client ?? throw new ToolstackException("the host is still starting");

    public KernelChild Child => _child ?? throw new ToolstackException("the host is still starting");

    /// <summary>pCPUs the kernel schedules on (a cpus= list resolves against them).</summary>
    public int Pcpus => _info?.Pcpus ?? throw new ToolstackException("the host is still starting");

    /// <summary>Whether requests can reach the kernel now: started, connected, alive.</summary>
    public bool IsServing => _client is not null && _death is null;

    /// <summary>Completes with the cause when the kernel dies while the host is up (never on the way down).</summary>
    public Task<string> Died => _died.Task;

    /// <summary>"starting", "running", or how it died, for `host status`.</summary>
    public string StateText => _death ?? (_child is null ? "starting" : "running");

    public int? Pid => _child?.Pid;

    public async Task StartAsync(CancellationToken cancel)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "disagg-kernel");
        _child = await KernelChild.StartAsync(program, state.KernelSocket, config.Pcpus, config.Memory, state.KernelLog, cancel, config.Arch).ConfigureAwait(false);
        log.KernelReady(_child.Pid, _child.Socket);
        _watcher = WatchAsync(_child);
        _client = await KernelClient.ConnectAsync(_child.Socket, _child.Token, cancel).ConfigureAwait(false);
        await _client.CallAsync<OkReply>(new Subscribe(), cancel).ConfigureAwait(false);
        _info = await _client.CallAsync<HostInfo>(new GetHostInfo(), cancel).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancel)
    {
        if (_stopping)
        {
            return; // stopped once already (a failed start stops what it started)
        }

        _stopping = true;
        await log.StepAsync(async () => await (_client?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await log.StepAsync(async () => await (_child?.DisposeAsync() ?? ValueTask.CompletedTask).ConfigureAwait(false)).ConfigureAwait(false);
        await _watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task WatchAsync(KernelChild kernel)
    {
        await kernel.Exited.ConfigureAwait(false);
        if (_stopping)
        {
            return;
        }

        var cause = kernel.ExitDescription;
        _death = $"(pid {kernel.Pid}) died at {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss}: {cause}; every guest died with it";
        log.KernelDied(kernel.Pid, cause);
        _died.TrySetResult(cause);
    }
}
