using System.Net.Sockets;
using Disagg.Control.Messages;
using Disagg.Interop;

namespace Disagg.Control;

/// <summary>
/// One end of a control connection over a Unix stream socket: reads whole frames (growing its
/// buffer only up to the current frame limit) and writes frames atomically with respect to
/// other writers on the same connection. A frame may carry file descriptors (SCM_RIGHTS, sent with
/// the frame's bytes, so they arrive no later than the frame): the receiver queues them in order and
/// the reader of a message that announces N descriptors takes N with <see cref="TakeFileDescriptors"/>.
/// An end that does not accept descriptors closes any it is sent.
/// </summary>
public sealed class ControlConnection : IAsyncDisposable
{
    /// <summary>Descriptors a peer may have queued and not yet claimed before it is cut off.</summary>
    public const int MaxQueuedFds = 64;

    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<FileDescriptor> _fds = new();
    private readonly FrameBuffer _received = new(64 * 1024);

    public ControlConnection(Socket socket)
    {
        _socket = socket;
    }

    /// <summary>The largest frame this end accepts now; raised once the peer has authenticated.</summary>
    public int MaxFrame { get; set; } = ControlCodec.MaxUnauthenticatedFrame;

    /// <summary>
    /// Whether descriptors the peer sends are kept (a client of the kernel; the kernel once the control domain
    /// said Hello, for a migration's socket) or closed at once (the kernel, for everyone else).
    /// </summary>
    public bool AcceptFileDescriptors { get; set; }

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

        return new ControlConnection(socket) { MaxFrame = ControlCodec.MaxFrame, AcceptFileDescriptors = true };
    }

    /// <summary>Sends a frame with descriptors attached (they stay owned by the caller).</summary>
    public async Task SendAsync(ControlMessage message, IReadOnlyList<FileDescriptor> fds, CancellationToken cancel = default)
    {
        if (fds.Count == 0)
        {
            await SendAsync(message, cancel).ConfigureAwait(false);
            return;
        }

        var frame = ControlCodec.Encode(message);
        await _writeLock.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            // The first byte carries the descriptors; the rest follows as ordinary stream data.
            UnixRights.Send(_socket, frame.AsSpan(0, 1), [.. fds]);
            if (frame.Length > 1)
            {
                await _socket.SendAsync(frame.AsMemory(1), SocketFlags.None, cancel).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> descriptors that arrived, in order, now owned by the caller.
    /// </summary>
    /// <exception cref="ControlProtocolException">Fewer arrived than the message announced.</exception>
    public FileDescriptor[] TakeFileDescriptors(int count)
    {
        if (_fds.Count < count)
        {
            throw new ControlProtocolException($"a message announced {count} file descriptors; {_fds.Count} arrived");
        }

        var taken = new FileDescriptor[count];
        for (var i = 0; i < count; i++)
        {
            taken[i] = _fds.Dequeue();
        }

        return taken;
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
            var status = ControlCodec.TryDecode(_received.Unread, MaxFrame, out var message, out var consumed, out var error);
            if (status == FrameStatus.Message)
            {
                _received.Consume(consumed);
                return message;
            }

            if (status == FrameStatus.ProtocolViolation)
            {
                throw new ControlProtocolException(error!);
            }

            _received.MakeRoom(MaxFrame);
            var n = await ReceiveSomeAsync(cancel).ConfigureAwait(false);
            if (n == 0)
            {
                return null;
            }

            _received.Commit(n);
        }
    }

    /// <summary>Reads what is there with recvmsg, so descriptors that come with the bytes are not lost.</summary>
    private async Task<int> ReceiveSomeAsync(CancellationToken cancel)
    {
        while (true)
        {
            var n = UnixRights.TryReceive(_socket, _received.FreeSpan, out var fds);
            foreach (var fd in fds)
            {
                if (AcceptFileDescriptors && _fds.Count < MaxQueuedFds)
                {
                    _fds.Enqueue(fd);
                }
                else
                {
                    fd.Dispose();
                    if (AcceptFileDescriptors)
                    {
                        throw new ControlProtocolException($"the peer sent more than {MaxQueuedFds} unclaimed file descriptors");
                    }
                }
            }

            if (n >= 0)
            {
                return n;
            }

            // Nothing to read yet: a zero-byte receive completes when the socket becomes readable.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancel).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_fds.Count > 0)
        {
            _fds.Dequeue().Dispose();
        }

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
}
