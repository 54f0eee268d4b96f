using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Disagg.Abi.Io;
using Disagg.Xenstored.Core;
using Disagg.Xenstored.Permissions;
using Disagg.Xenstored.Store;

namespace Disagg.Xenstored.Transport.Socket;

/// <summary>
/// A host client on the Unix socket: privileged, as Xen's /var/run/xenstored/socket is (dom0).
/// A receive task frames requests and queues them for the loop; the loop writes replies with
/// non-blocking sends and hands a backlog to an async send only when the peer is slow.
/// A header announcing more than 4096 bytes drops the connection (Xen does the same: the stream
/// cannot be resynchronised).
/// </summary>
public sealed class SocketConnection : XsConnection, IRequestCredit
{
    /// <summary>Requests one client may have queued before its receive task waits (keeps a flood from filling memory).</summary>
    private const int MaxQueued = 256;

    /// <summary>Replies and events a client may leave unread before we give up on it.</summary>
    private const int MaxPendingOutput = 32 << 20;

    private readonly System.Net.Sockets.Socket _socket;
    private readonly StoreLoop _loop;
    private int _queued;
    private bool _sending;

    public SocketConnection(System.Net.Sockets.Socket socket, StoreLoop loop, int number)
        : base(XsCaller.Dom0, "socket#" + number)
    {
        _socket = socket;
        _socket.Blocking = false;
        _loop = loop;
    }

    public override bool PersistsWatches => false;

    /// <summary>Why the connection was dropped, for the log (null while it is served).</summary>
    public string? DropReason { get; private set; }

    public void RequestDone() => Interlocked.Decrement(ref _queued);

    public async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                filled += n;
                var offset = 0;
                while (filled - offset >= 16)
                {
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 12));
                    if (length > XsWireHeader.MaxPayload)
                    {
                        DropReason = $"payload of {length} bytes announced (max {XsWireHeader.MaxPayload})";
                        _loop.Post(new LoopInput(LoopInputKind.Closed, this, null, 0));
                        return;
                    }

                    var total = 16 + (int)length;
                    if (filled - offset < total)
                    {
                        break;
                    }

                    var message = ArrayPool<byte>.Shared.Rent(total);
                    buffer.AsSpan(offset, total).CopyTo(message);
                    Interlocked.Increment(ref _queued);
                    _loop.Post(new LoopInput(LoopInputKind.Request, this, message, total));
                    offset += total;
                }

                buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
                filled -= offset;
                while (Volatile.Read(ref _queued) > MaxQueued && !IsClosed)
                {
                    await Task.Delay(1).ConfigureAwait(false);
                }
            }
        }
        catch (SocketException)
        {
            // The peer reset the connection: same as a close.
        }
        catch (ObjectDisposedException)
        {
            return; // we closed it
        }

        _loop.Post(new LoopInput(LoopInputKind.Closed, this, null, 0));
    }

    public override void Flush()
    {
        if (IsClosed || _sending)
        {
            return;
        }

        while (Output.PendingBytes > 0)
        {
            var sent = _socket.Send(Output.Pending, SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                Output.Consume(sent);
                continue;
            }

            if (error == SocketError.WouldBlock)
            {
                if (Output.PendingBytes > MaxPendingOutput)
                {
                    DropReason = "client does not read its replies";
                    _loop.Drop(this);
                    return;
                }

                SendBacklogAsync();
                return;
            }

            DropReason = "send failed: " + error;
            _loop.Drop(this);
            return;
        }
    }

    public override void Close()
    {
        base.Close();
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

    /// <summary>The peer's buffer is full: wait for it off the loop, with a copy, then let the loop continue.</summary>
    private async void SendBacklogAsync()
    {
        _sending = true;
        var backlog = Output.Pending.ToArray();
        Output.Consume(backlog.Length);
        var ok = true;
        try
        {
            var sent = 0;
            while (sent < backlog.Length)
            {
                sent += await _socket.SendAsync(backlog.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (SocketException)
        {
            ok = false;
        }
        catch (ObjectDisposedException)
        {
            ok = false;
        }

        _loop.Invoke(() =>
        {
            _sending = false;
            if (!ok)
            {
                _loop.Drop(this);
            }
            else
            {
                Flush();
            }
        });
    }
}
