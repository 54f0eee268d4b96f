using System.Net.Sockets;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Daemon;

/// <summary>
/// The daemon's Unix socket (0600, in the state dir): accepts CLI connections and runs a
/// <see cref="DaemonSession"/> for each; a broken client is dropped, the others keep being served.
/// </summary>
internal sealed class DaemonServer(string socketPath, Func<DaemonConnection, Task> session, DaemonLog log) : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private Task _accept = Task.CompletedTask;

    public void Start()
    {
        File.Delete(socketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(64);
        _accept = Task.Run(AcceptLoop);
    }

    public async ValueTask DisposeAsync()
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
        File.Delete(socketPath);
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
                    await session(connection).ConfigureAwait(false);
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
