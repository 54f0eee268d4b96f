using System.Net.Sockets;
using Disagg.Control.Messages;

namespace Disagg.Control;

/// <summary>
/// One end of a control connection over a Unix stream socket: reads whole frames (growing its
/// buffer only up to the current frame limit) and writes frames atomically with respect to
/// other writers on the same connection.
/// </summary>
public sealed class ControlConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public ControlConnection(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The largest frame this end accepts now; raised once the peer has authenticated.</summary>
    public int MaxFrame { get; set; } = ControlCodec.MaxUnauthenticatedFrame;

    public static async Task<ControlConnection> ConnectAsync(string socketPath, CancellationToken cancel = default)
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

        return new ControlConnection(socket) { MaxFrame = ControlCodec.MaxFrame };
    }

    public async Task SendAsync(ControlMessage message, CancellationToken cancel = default)
    {
        var frame = ControlCodec.Encode(message);
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
    /// <exception cref="ControlProtocolException">The peer broke the protocol; the connection should be closed.</exception>
    public async Task<ControlMessage?> ReceiveAsync(CancellationToken cancel = default)
    {
        while (true)
        {
            var status = ControlCodec.TryDecode(_buffer.AsSpan(_start, _end - _start), MaxFrame, out var message, out var consumed, out var error);
            if (status == FrameStatus.Message)
            {
                _start += consumed;
                return message;
            }

            if (status == FrameStatus.ProtocolViolation)
            {
                throw new ControlProtocolException(error!);
            }

            MakeRoom();
            var n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            _end += n;
        }
    }

    public async ValueTask DisposeAsync()
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
        await Task.CompletedTask.ConfigureAwait(false);
        _writeLock.Dispose();
    }

    /// <summary>Moves unread bytes to the front and grows the buffer when a partial frame needs it (never past MaxFrame).</summary>
    private void MakeRoom()
    {
        var pending = _end - _start;
        var need = ControlCodec.HeaderSize;
        if (pending >= ControlCodec.HeaderSize)
        {
            need += (int)Math.Min(BitConverter.ToUInt32(_buffer, _start), (uint)MaxFrame);
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _start = 0;
            _end = pending;
        }

        if (need > _buffer.Length || _end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(need, _buffer.Length * 2));
        }
    }
}
