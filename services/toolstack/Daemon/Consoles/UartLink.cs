using System.Net.Sockets;

namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>
/// An HVM guest's console: its device model's UART, reached as a client of qemu-dm's console socket (QEMU's
/// `-serial unix:PATH,server`; xenconsoled does the same with a pty). What the guest prints is handed to the hub;
/// keystrokes are written to the socket. When qemu-dm dies the socket closes, and the link connects again
/// to its successor (which replays what it printed before a client came), until the link is disposed.
/// </summary>
internal sealed class UartLink : IAsyncDisposable
{
    /// <summary>How often a link that is not connected tries again (qemu-dm starting, or restarting after a kill).</summary>
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(100);

    private readonly int _domainId;
    private readonly string _path;
    private readonly Action<int, ReadOnlySpan<byte>> _deliver;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lock = new();
    private readonly Task _loop;
    private Socket? _socket;

    public UartLink(int domainId, string path, Action<int, ReadOnlySpan<byte>> deliver)
    {
        _domainId = domainId;
        _path = path;
        _deliver = deliver;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Keystrokes for the guest's UART; false when qemu-dm is not connected (restarting): they are dropped.</summary>
    public bool Input(byte[] bytes)
    {
        lock (_lock)
        {
            if (_socket is null)
            {
                return false;
            }

            try
            {
                _socket.Send(bytes);
                return true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _socket?.Dispose();
        }

        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var buffer = new byte[16 * 1024];
        while (!_stop.IsCancellationRequested)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_path), _stop.Token).ConfigureAwait(false);
                lock (_lock)
                {
                    _socket = socket;
                }

                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break; // qemu-dm went; its successor listens on the same path
                    }

                    _deliver(_domainId, buffer.AsSpan(0, n));
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // not listening (yet, or again): try again shortly
            }
            catch (OperationCanceledException)
            {
                // disposed
            }
            finally
            {
                lock (_lock)
                {
                    _socket = null;
                }

                socket.Dispose();
            }

            try
            {
                await Task.Delay(RetryEvery, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
