using System.Net.Sockets;
using Disagg.Xenstored.Core;

namespace Disagg.Xenstored.Transport.Socket;

/// <summary>The Unix socket host clients (the toolstack, services, xenstore-utils) connect to. Mode 0600: only our user is dom0.</summary>
public sealed class SocketListener : IDisposable
{
    private readonly System.Net.Sockets.Socket _listener;
    private readonly StoreLoop _loop;
    private readonly CancellationTokenSource _stop = new();
    private int _accepted;

    public SocketListener(string path, StoreLoop loop)
    {
        Path = path;
        _loop = loop;
        if (File.Exists(path))
        {
            File.Delete(path); // left by a previous xenstored that was killed
        }

        _listener = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(128);
    }

    public string Path { get; }

    public event Action<SocketConnection>? Dropped;

    public async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            System.Net.Sockets.Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            var conn = new SocketConnection(socket, _loop, Interlocked.Increment(ref _accepted));
            _loop.Adopt(conn);
            // A thread per host client: a handful (the toolstack, services, tools), and a request runs on it.
            new Thread(() => Receive(conn)) { IsBackground = true, Name = conn.Name }.Start();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        File.Delete(Path);
        _stop.Dispose();
    }

    private void Receive(SocketConnection conn)
    {
        conn.ReceiveLoop();
        if (conn.DropReason is not null)
        {
            Dropped?.Invoke(conn);
        }
    }
}
