using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Disagg.Abi.Io;

namespace Disagg.Xenbus;

/// <summary>
/// An xs_wire client over xenstored's Unix socket (libxenstore's socket mode): each message is a 16-byte
/// header (type, req_id, tx_id, len) and a payload of NUL-separated strings. Requests from several tasks
/// may be in flight together (replies are matched by req_id); watch events arrive on <see cref="WatchEvents"/>.
/// When xenstored goes away (it was killed and is being restarted) every pending request fails with
/// <see cref="IOException"/>, <see cref="Closed"/> completes, and the owner connects again and re-registers
/// its watches: xenstored keeps registered watches across its own restart, but not across a new connection.
/// </summary>
public sealed class XenstoreClient : IAsyncDisposable
{
    /// <summary>tx_id of a request outside any transaction.</summary>
    public const uint NoTransaction = 0;

    /// <summary>How often a conflicting transaction is run again before its caller is told it never committed.</summary>
    private const int TransactionAttempts = 5;

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<(XsMessageType Type, byte[] Payload)>> _pending = new();
    private readonly Channel<XenstoreWatchEvent> _events = Channel.CreateUnbounded<XenstoreWatchEvent>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly Lock _sendLock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private uint _nextReq;
    private volatile bool _closed;

    private XenstoreClient(Socket socket, TimeSpan replyTimeout)
    {
        _socket = socket;
        ReplyTimeout = replyTimeout;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>How long a request waits for its reply before it fails with <see cref="IOException"/>.</summary>
    public TimeSpan ReplyTimeout { get; }

    /// <summary>Watch events, in the order xenstored sent them.</summary>
    public ChannelReader<XenstoreWatchEvent> WatchEvents => _events.Reader;

    /// <summary>Completes (never faults) when the connection is gone: xenstored closed it or died, or this client was disposed.</summary>
    public Task Closed => _reader;

    public static async Task<XenstoreClient> ConnectAsync(string socketPath, CancellationToken cancel, TimeSpan? replyTimeout = null)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel).ConfigureAwait(false);
            return new XenstoreClient(socket, replyTimeout ?? TimeSpan.FromSeconds(5));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects, retrying while the socket is missing or refuses (xenstored restarting), for up to <paramref name="patience"/>.</summary>
    public static async Task<XenstoreClient> ConnectWithRetryAsync(string socketPath, TimeSpan patience, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + patience;
        var delay = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            try
            {
                return await ConnectAsync(socketPath, cancel).ConfigureAwait(false);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(delay, cancel).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks));
            }
        }
    }

    /// <summary>XS_READ; null when the node does not exist.</summary>
    public async Task<string?> ReadAsync(uint tx, string path, CancellationToken cancel)
    {
        try
        {
            return Text(await RequestAsync(XsMessageType.Read, tx, path, [path], true, cancel).ConfigureAwait(false));
        }
        catch (XenstoreException e) when (e.Error == "ENOENT")
        {
            return null;
        }
    }

    public Task WriteAsync(uint tx, string path, string value, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Write, tx, path, [path, value], lastTerminated: false, cancel);

    public Task MkdirAsync(uint tx, string path, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Mkdir, tx, path, [path], true, cancel);

    /// <summary>XS_RM of a node and everything below it; a node that does not exist is not an error.</summary>
    public async Task RmAsync(uint tx, string path, CancellationToken cancel)
    {
        try
        {
            await RequestAsync(XsMessageType.Rm, tx, path, [path], true, cancel).ConfigureAwait(false);
        }
        catch (XenstoreException e) when (e.Error == "ENOENT")
        {
        }
    }

    /// <summary>XS_DIRECTORY: the children's names; empty when the node does not exist.</summary>
    public async Task<IReadOnlyList<string>> DirectoryAsync(uint tx, string path, CancellationToken cancel)
    {
        try
        {
            return Strings(await RequestAsync(XsMessageType.Directory, tx, path, [path], true, cancel).ConfigureAwait(false));
        }
        catch (XenstoreException e) when (e.Error == "ENOENT")
        {
            return [];
        }
    }

    /// <summary>XS_GET_PERMS: "n0", "r5", ... the first names the owner.</summary>
    public async Task<IReadOnlyList<string>> GetPermsAsync(uint tx, string path, CancellationToken cancel) =>
        Strings(await RequestAsync(XsMessageType.GetPerms, tx, path, [path], true, cancel).ConfigureAwait(false));

    /// <summary>XS_SET_PERMS: the first permission names the owner (and everyone else's access), e.g. "n5", "r0".</summary>
    public Task SetPermsAsync(uint tx, string path, IReadOnlyList<string> perms, CancellationToken cancel) =>
        RequestAsync(XsMessageType.SetPerms, tx, path, [path, .. perms], true, cancel);

    /// <summary>XS_WATCH: events for the path and everything below it arrive on <see cref="WatchEvents"/> with the token; one fires at once.</summary>
    public Task WatchAsync(string path, string token, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Watch, NoTransaction, path, [path, token], true, cancel);

    public Task UnwatchAsync(string path, string token, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Unwatch, NoTransaction, path, [path, token], true, cancel);

    public async Task<uint> TransactionStartAsync(CancellationToken cancel) =>
        uint.Parse(Text(await RequestAsync(XsMessageType.TransactionStart, NoTransaction, "transaction", [""], true, cancel).ConfigureAwait(false)), CultureInfo.InvariantCulture);

    /// <summary>Commits (or aborts) a transaction; false when xenstored says EAGAIN (it conflicted, or xenstored restarted: run it again).</summary>
    public async Task<bool> TransactionEndAsync(uint tx, bool commit, CancellationToken cancel)
    {
        try
        {
            await RequestAsync(XsMessageType.TransactionEnd, tx, "transaction", [commit ? "T" : "F"], true, cancel).ConfigureAwait(false);
            return true;
        }
        catch (XenstoreException e) when (e.Error == "EAGAIN")
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction with libxenstore's retry rule: a commit that fails with
    /// EAGAIN (another writer got in between, or xenstored restarted) is run again from the start, a few
    /// times; false when it never committed. A body that throws aborts its transaction.
    /// </summary>
    public async Task<bool> RunTransactionAsync(Func<uint, Task> body, CancellationToken cancel)
    {
        for (var attempt = 0; attempt < TransactionAttempts; attempt++)
        {
            var tx = await TransactionStartAsync(cancel).ConfigureAwait(false);
            try
            {
                await body(tx).ConfigureAwait(false);
            }
            catch
            {
                await TransactionEndAsync(tx, commit: false, cancel).ConfigureAwait(false);
                throw;
            }

            if (await TransactionEndAsync(tx, commit: true, cancel).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    public Task IntroduceAsync(int domid, ulong mfn, int port, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Introduce, NoTransaction, $"domain {domid}", [N(domid), mfn.ToString(CultureInfo.InvariantCulture), N(port)], true, cancel);

    public Task ReleaseAsync(int domid, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Release, NoTransaction, $"domain {domid}", [N(domid)], true, cancel);

    public async Task<string> GetDomainPathAsync(int domid, CancellationToken cancel) =>
        Text(await RequestAsync(XsMessageType.GetDomainPath, NoTransaction, $"domain {domid}", [N(domid)], true, cancel).ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        _closed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _reader.ConfigureAwait(false);
        _stop.Dispose();
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Text(byte[] payload) => Encoding.UTF8.GetString(payload.AsSpan().TrimEnd((byte)0));

    private static string[] Strings(byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        return text.Length == 0 ? [] : text.TrimEnd('\0').Split('\0');
    }

    private async Task<byte[]> RequestAsync(XsMessageType type, uint tx, string what, IReadOnlyList<string> args, bool lastTerminated, CancellationToken cancel)
    {
        var length = 0;
        for (var i = 0; i < args.Count; i++)
        {
            length += Encoding.UTF8.GetByteCount(args[i]) + (i < args.Count - 1 || lastTerminated ? 1 : 0);
        }

        if (length > XsWireHeader.MaxPayload)
        {
            throw new XenstoreException(type.ToString(), what, "E2BIG");
        }

        var frame = new byte[16 + length];
        var at = 16;
        for (var i = 0; i < args.Count; i++)
        {
            at += Encoding.UTF8.GetBytes(args[i], frame.AsSpan(at));
            if (i < args.Count - 1 || lastTerminated)
            {
                frame[at++] = 0;
            }
        }

        var reply = new TaskCompletionSource<(XsMessageType, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint req;
        lock (_sendLock)
        {
            if (_closed)
            {
                throw new IOException($"xenstore {type} {what}: the connection to xenstored is closed");
            }

            req = ++_nextReq;
            _pending[req] = reply;
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(0), (uint)type);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), req);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), tx);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), (uint)length);
            try
            {
                _socket.Send(frame);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                _pending.TryRemove(req, out _);
                throw new IOException($"xenstore {type} {what}: {e.Message}", e);
            }
        }

        try
        {
            var (replyType, payload) = await reply.Task.WaitAsync(ReplyTimeout, cancel).ConfigureAwait(false);
            if (replyType == XsMessageType.Error)
            {
                throw new XenstoreException(type.ToString(), what, Text(payload));
            }

            return payload;
        }
        catch (TimeoutException)
        {
            throw new IOException($"xenstore {type} {what}: no reply within {ReplyTimeout.TotalSeconds} s");
        }
        finally
        {
            _pending.TryRemove(req, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        var header = new byte[16];
        var gone = new IOException("the connection to xenstored closed");
        try
        {
            while (true)
            {
                await ReceiveExactlyAsync(header).ConfigureAwait(false);
                var type = (XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(header);
                var req = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                var len = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
                if (len > XsWireHeader.MaxPayload)
                {
                    throw new IOException($"xenstored sent a {len}-byte payload (at most {XsWireHeader.MaxPayload})");
                }

                var payload = new byte[len];
                await ReceiveExactlyAsync(payload).ConfigureAwait(false);
                if (type == XsMessageType.WatchEvent)
                {
                    var parts = Strings(payload);
                    if (parts.Length >= 2)
                    {
                        _events.Writer.TryWrite(new XenstoreWatchEvent(parts[0], parts[1]));
                    }
                }
                else if (_pending.TryGetValue(req, out var waiter))
                {
                    waiter.TrySetResult((type, payload));
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            gone = new IOException($"the connection to xenstored closed: {e.Message}", e);
        }
        finally
        {
            _closed = true;
            foreach (var waiter in _pending.Values)
            {
                waiter.TrySetException(gone);
            }

            _events.Writer.TryComplete();
        }
    }

    private async Task ReceiveExactlyAsync(byte[] buffer)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("xenstored closed the connection");
            }

            got += n;
        }
    }
}
