using System.Net.Sockets;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// The daemon's Unix socket (0600, in the state dir): accepts CLI connections and runs a
/// <see cref="DaemonSession"/> for each; a broken client is dropped, the others keep being served.
/// The last hosted service to start (the CLI is served once everything it reaches is up) and the
/// last to close: it keeps answering while guests, services and the kernel go down, and closes in
/// the host's Stopped phase.
/// </summary>
internal sealed class DaemonServer(StateDir state, HostDaemon host, DaemonLog log) : IHostedLifecycleService
{
    private readonly string _socketPath = state.DaemonSocket;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private Task _accept = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancel)
    {
        Start();
        log.HostReady(state.Path, _socketPath);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancel) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancel) => await log.StepAsync(CloseAsync).ConfigureAwait(false);

    private void Start()
    {
        File.Delete(_socketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        File.SetUnixFileMode(_socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(64);
        _accept = Task.Run(AcceptLoop);
    }

    private async Task CloseAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }

        await Task.WhenAll(sessions).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        File.Delete(_socketPath);
        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var task = Task.Run(async () =>
            {
                var connection = new DaemonConnection(client);
                try
                {
                    await DaemonSession.RunAsync(host, connection).ConfigureAwait(false);
                }
                catch (Exception e) when (e is DaemonProtocolException or SocketException or IOException or ObjectDisposedException)
                {
                    log.ClientDropped(e.Message);
                }
                finally
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            });
            lock (_sessions)
            {
                _sessions.RemoveAll(t => t.IsCompleted);
                _sessions.Add(task);
            }
        }
    }
}
