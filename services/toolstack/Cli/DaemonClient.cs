using System.Net.Sockets;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;

namespace Disagg.Toolstack.Cli;

/// <summary>The CLI's end of the daemon socket of the host in a state dir: one request, one reply.</summary>
internal sealed class DaemonClient : IAsyncDisposable
{
    private readonly DaemonConnection _connection;
    private long _nextId;

    private DaemonClient(DaemonConnection connection)
    {
        _connection = connection;
    }

    public DaemonConnection Connection => _connection;

    public static async Task<DaemonClient> ConnectAsync(StateDir state, CancellationToken cancel = default)
    {
        if (!File.Exists(state.DaemonSocket))
        {
            throw new CliException($"no host is up in {state.Path} (start one with `disagg host up`, or give --state-dir / {StateDir.EnvironmentVariable})");
        }

        try
        {
            return new DaemonClient(await DaemonConnection.ConnectAsync(state.DaemonSocket, cancel).ConfigureAwait(false));
        }
        catch (SocketException e)
        {
            throw new CliException($"the host daemon in {state.Path} does not answer ({e.SocketErrorCode}); its log is {state.DaemonLog}");
        }
    }

    public async Task<DaemonMessage> RequestAsync(DaemonMessage request, CancellationToken cancel = default)
    {
        var id = Interlocked.Increment(ref _nextId);
        try
        {
            await _connection.SendAsync(request with { Id = id }, cancel).ConfigureAwait(false);
            return await _connection.ReceiveAsync(cancel).ConfigureAwait(false)
                ?? throw new CliException("the host daemon closed the connection (is the host going down?)");
        }
        catch (Exception e) when (e is SocketException or IOException or DaemonProtocolException)
        {
            throw new CliException($"lost the host daemon: {e.Message}");
        }
    }

    /// <summary>The reply as <typeparamref name="T"/>; an <see cref="ErrorReply"/> becomes a <see cref="CliException"/> with its message.</summary>
    public async Task<T> CallAsync<T>(DaemonMessage request, CancellationToken cancel = default)
        where T : DaemonMessage
    {
        var reply = await RequestAsync(request, cancel).ConfigureAwait(false);
        return reply switch
        {
            T t => t,
            ErrorReply e => throw new CliException(e.Message),
            _ => throw new CliException($"unexpected reply {reply.GetType().Name} from the host daemon"),
        };
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
