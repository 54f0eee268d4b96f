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
/// A receive thread frames requests and runs them (<see cref="ReceiveLoop"/>); replies go out with
/// non-blocking sends, and a backlog goes to an async send only when the peer is slow.
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

    /// <summary>Set while the client may queue more; the receive thread waits on it when it has <see cref="MaxQueued"/> waiting.</summary>
    private readonly ManualResetEventSlim _credit = new(initialState: true, spinCount: 0);
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

    public void RequestDone()
    {
        // Half the window back before the receive thread resumes, so it wakes once per many requests, not per request.
        if (Interlocked.Decrement(ref _queued) == MaxQueued / 2)
        {
            _credit.Set();
        }
    }

    /// <summary>
    /// The connection's receive thread: frames requests and runs the store on this thread when nobody else is
    /// (one wake-up per request, as an echo server has). The socket stays non-blocking for the store's sends,
    /// so the thread waits in poll(2) for input. Returns when the peer goes or we close it.
    /// </summary>
    public void ReceiveLoop()
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                _socket.Poll(-1, SelectMode.SelectRead);
                var n = _socket.Receive(buffer.AsSpan(filled), SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                {
                    continue;
                }

                if (error != SocketError.Success || n == 0)
                {
                    break; // closed, or reset by the peer: the same
                }

                filled += n;
                var offset = 0;
                while (filled - offset >= 16)
                {
                    var length = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(offset + 12));
                    if (length > XsWireHeader.MaxPayload)
                    {
                        DropReason = $"payload of {length} bytes announced (max {XsWireHeader.MaxPayload})";
                        _loop.PostAndRun(new LoopInput(LoopInputKind.Closed, this, null, 0));
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
                    _loop.PostAndRun(new LoopInput(LoopInputKind.Request, this, message, total));
                    offset += total;
                }

                buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
                filled -= offset;
                WaitForCredit();
            }
        }
        catch (ObjectDisposedException)
        {
            return; // we closed it
        }
        catch (SocketException)
        {
            // The peer reset the connection: same as a close.
        }

        _loop.PostAndRun(new LoopInput(LoopInputKind.Closed, this, null, 0));
    }

    /// <summary>
    /// Another thread runs the store and is behind on this client's requests: wait until it has answered half of
    /// them (or the connection closes). The event is reset before the count is looked at again, so a
    /// <see cref="RequestDone"/> in between is not missed.
    /// </summary>
    private void WaitForCredit()
    {
        while (Volatile.Read(ref _queued) > MaxQueued && !IsClosed)
        {
            _credit.Reset();
            if (Volatile.Read(ref _queued) > MaxQueued / 2 && !IsClosed)
            {
                _credit.Wait();
            }
        }
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
        _credit.Set(); // a receive thread waiting for credit sees the close
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
