using System.Net.Sockets;

namespace Disagg.Toolstack.Protocol;

/// <summary>
/// One end of a CLI<->daemon connection over a Unix stream socket: whole frames in, frames out
/// atomically with respect to other writers (a console pump and a reply may share it).
/// </summary>
internal sealed class DaemonConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Disagg.Control.FrameBuffer _received = new(16 * 1024);
    private int _disposed;

    public DaemonConnection(Socket socket)
    {
        _socket = socket;
    }

    public static async Task<DaemonConnection> ConnectAsync(string socketPath, CancellationToken cancel = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new DaemonConnection(socket);
    }

    public async Task SendAsync(DaemonMessage message, CancellationToken cancel = default)
    {
        var frame = DaemonCodec.Encode(message);
        await _writeLock.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame, SocketFlags.None, cancel).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next message, or null when the peer closed the connection.</summary>
    /// <exception cref="DaemonProtocolException">The peer broke the framing.</exception>
    public async Task<DaemonMessage?> ReceiveAsync(CancellationToken cancel = default)
    {
        while (true)
        {
            if (DaemonCodec.TryDecode(_received.Unread, out var message, out var consumed, out var error))
            {
                _received.Consume(consumed);
                return message;
            }

            if (error is not null)
            {
                throw new DaemonProtocolException(error);
            }

            _received.MakeRoom(DaemonCodec.MaxFrame);
            var n = await _socket.ReceiveAsync(_received.FreeMemory, SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            _received.Commit(n);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // already gone
            }

            _socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
