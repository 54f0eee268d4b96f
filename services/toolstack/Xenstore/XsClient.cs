using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Toolstack.Xenstore;

/// <summary>An error reply from xenstored (its errno name: ENOENT, EACCES, EAGAIN, ...).</summary>
internal sealed class XsException(string op, string path, string error) : Exception($"xenstore {op} {path}: {error}")
{
    public string Error { get; } = error;
}

/// <summary>
/// A small xs_wire client over xenstored's Unix socket (as libxenstore's socket mode): a 16-byte
/// header (type, req_id, tx_id, len) then the payload, NUL-separated strings. One request at a time;
/// the toolstack sets no watches, so every message read is the reply to the request just sent.
/// </summary>
internal sealed class XsClient : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly SemaphoreSlim _one = new(1, 1);
    private uint _nextReq;

    private XsClient(Socket socket) => _socket = socket;

    public static async Task<XsClient> ConnectAsync(string path, CancellationToken cancel)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel).ConfigureAwait(false);
            return new XsClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task WriteAsync(uint tx, string path, string value, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Write, tx, path, [path, value], lastTerminated: false, cancel);

    public Task MkdirAsync(uint tx, string path, CancellationToken cancel) => RequestAsync(XsMessageType.Mkdir, tx, path, [path], true, cancel);

    /// <summary>XS_RM; a path that does not exist is not an error.</summary>
    public async Task RmAsync(uint tx, string path, CancellationToken cancel)
    {
        try
        {
            await RequestAsync(XsMessageType.Rm, tx, path, [path], true, cancel).ConfigureAwait(false);
        }
        catch (XsException e) when (e.Error == "ENOENT")
        {
        }
    }

    /// <summary>XS_SET_PERMS: the first permission names the owner (and everyone else's access), e.g. "n5", "r0".</summary>
    public Task SetPermsAsync(uint tx, string path, IReadOnlyList<string> perms, CancellationToken cancel) =>
        RequestAsync(XsMessageType.SetPerms, tx, path, [path, .. perms], true, cancel);

    public async Task<string?> ReadAsync(uint tx, string path, CancellationToken cancel)
    {
        try
        {
            var reply = await RequestAsync(XsMessageType.Read, tx, path, [path], true, cancel).ConfigureAwait(false);
            return Encoding.UTF8.GetString(reply);
        }
        catch (XsException e) when (e.Error == "ENOENT")
        {
            return null;
        }
    }

    public Task IntroduceAsync(int domid, ulong mfn, int port, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Introduce, 0, $"domain {domid}", [Num(domid), mfn.ToString(System.Globalization.CultureInfo.InvariantCulture), Num(port)], true, cancel);

    public Task ReleaseAsync(int domid, CancellationToken cancel) =>
        RequestAsync(XsMessageType.Release, 0, $"domain {domid}", [Num(domid)], true, cancel);

    public async Task<uint> TransactionStartAsync(CancellationToken cancel)
    {
        var reply = await RequestAsync(XsMessageType.TransactionStart, 0, "", [""], true, cancel).ConfigureAwait(false);
        return uint.Parse(Encoding.ASCII.GetString(reply).TrimEnd('\0'), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Commits (or aborts) a transaction; false when xenstored says EAGAIN (it conflicted: run it again).</summary>
    public async Task<bool> TransactionEndAsync(uint tx, bool commit, CancellationToken cancel)
    {
        try
        {
            await RequestAsync(XsMessageType.TransactionEnd, tx, "transaction", [commit ? "T" : "F"], true, cancel).ConfigureAwait(false);
            return true;
        }
        catch (XsException e) when (e.Error == "EAGAIN")
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _one.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string Num(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<byte[]> RequestAsync(XsMessageType type, uint tx, string what, IReadOnlyList<string> args, bool lastTerminated, CancellationToken cancel)
    {
        var body = new List<byte>();
        for (var i = 0; i < args.Count; i++)
        {
            body.AddRange(Encoding.UTF8.GetBytes(args[i]));
            if (i < args.Count - 1 || lastTerminated)
            {
                body.Add(0);
            }
        }

        if (body.Count > XsWireHeader.MaxPayload)
        {
            throw new XsException(type.ToString(), what, "E2BIG");
        }

        var frame = new byte[16 + body.Count];
        await _one.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            var req = ++_nextReq;
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(0), (uint)type);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), req);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), tx);
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12), (uint)body.Count);
            body.CopyTo(frame, 16);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(ReplyTimeout);
            await _socket.SendAsync(frame, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var header = new byte[16];
                await ReceiveExactlyAsync(header, timeout.Token).ConfigureAwait(false);
                var replyType = (XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(header);
                var replyReq = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4));
                var len = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
                if (len > XsWireHeader.MaxPayload)
                {
                    throw new IOException($"xenstored sent a {len}-byte payload");
                }

                var payload = new byte[len];
                await ReceiveExactlyAsync(payload, timeout.Token).ConfigureAwait(false);
                if (replyType == XsMessageType.WatchEvent || replyReq != req)
                {
                    continue; // not ours (we set no watches; a stray event is skipped)
                }

                if (replyType == XsMessageType.Error)
                {
                    throw new XsException(type.ToString(), what, Encoding.ASCII.GetString(payload).TrimEnd('\0'));
                }

                return payload.Length > 0 && payload[^1] == 0 ? payload[..^1] : payload;
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new IOException($"xenstored did not answer {type} {what} within {ReplyTimeout.TotalSeconds} s");
        }
        finally
        {
            _one.Release();
        }
    }

    private async Task ReceiveExactlyAsync(byte[] buffer, CancellationToken cancel)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = await _socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, cancel).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("xenstored closed the connection");
            }

            got += n;
        }
    }
}
