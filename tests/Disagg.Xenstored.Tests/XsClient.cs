using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Xenstored.Tests;

/// <summary>A raw xs_wire client over the Unix socket: what a test sends is exactly what goes on the wire.</summary>
public sealed class XsClient : IDisposable
{
    private readonly Socket _socket;
    private readonly Queue<XsReply> _events = new();
    private uint _nextReq = 1;

    public XsClient(string path)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint(path));
        _socket.ReceiveTimeout = 10_000;
    }

    public Socket Socket => _socket;

    public static byte[] Args(params string[] args) => Encoding.Latin1.GetBytes(string.Concat(args.Select(a => a + "\0")));

    public void SendRaw(ReadOnlySpan<byte> bytes) => _socket.Send(bytes);

    public uint Send(XsMessageType type, ReadOnlySpan<byte> payload, uint tx = 0)
    {
        var req = _nextReq++;
        var msg = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(msg, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(4), req);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(8), tx);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(12), (uint)payload.Length);
        payload.CopyTo(msg.AsSpan(16));
        _socket.Send(msg);
        return req;
    }

    /// <summary>Sends and waits for the reply with the same req_id; watch events that arrive meanwhile are kept.</summary>
    public XsReply Call(XsMessageType type, ReadOnlySpan<byte> payload, uint tx = 0)
    {
        var req = Send(type, payload, tx);
        while (true)
        {
            var r = ReadMessage();
            if (r.Type == XsMessageType.WatchEvent)
            {
                _events.Enqueue(r);
                continue;
            }

            Assert.Equal(req, r.ReqId);
            return r;
        }
    }

    public XsReply Call(XsMessageType type, params string[] args) => Call(type, Args(args));

    public XsReply CallTx(uint tx, XsMessageType type, params string[] args) => Call(type, Args(args), tx);

    public string Read(string path) => Call(XsMessageType.Read, path).Expect(XsMessageType.Read).Text;

    public void Write(string path, string value, uint tx = 0) =>
        Call(XsMessageType.Write, Encoding.Latin1.GetBytes(path + "\0" + value), tx).Expect(XsMessageType.Write);

    public uint StartTransaction() => uint.Parse(Call(XsMessageType.TransactionStart, "").Expect(XsMessageType.TransactionStart).Text.TrimEnd('\0'), System.Globalization.CultureInfo.InvariantCulture);

    public XsReply NextEvent(int timeoutMs = 5000)
    {
        if (_events.Count > 0)
        {
            return _events.Dequeue();
        }

        var old = _socket.ReceiveTimeout;
        _socket.ReceiveTimeout = timeoutMs;
        try
        {
            var r = ReadMessage();
            Assert.Equal(XsMessageType.WatchEvent, r.Type);
            return r;
        }
        finally
        {
            _socket.ReceiveTimeout = old;
        }
    }

    /// <summary>True if no event arrives within <paramref name="ms"/>.</summary>
    public bool NoEventWithin(int ms)
    {
        if (_events.Count > 0)
        {
            return false;
        }

        return !_socket.Poll(ms * 1000, SelectMode.SelectRead);
    }

    /// <summary>True once the server has closed this connection (read returns 0 or resets).</summary>
    public bool IsClosedByServer(int timeoutMs = 5000)
    {
        var buffer = new byte[256];
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Environment.TickCount64 < deadline)
        {
            if (_socket.Poll(100_000, SelectMode.SelectRead))
            {
                try
                {
                    if (_socket.Receive(buffer) == 0)
                    {
                        return true;
                    }
                }
                catch (SocketException)
                {
                    return true;
                }
            }
        }

        return false;
    }

    public XsReply ReadMessage()
    {
        var header = new byte[16];
        ReadExactly(header);
        var len = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12));
        Assert.True(len <= XsWireHeader.MaxPayload, $"reply payload {len}");
        var payload = new byte[len];
        ReadExactly(payload);
        return new XsReply(
            (XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(header),
            BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)),
            payload);
    }

    public void Dispose() => _socket.Dispose();

    private void ReadExactly(Span<byte> buffer)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = _socket.Receive(buffer[got..]);
            if (n == 0)
            {
                throw new IOException("xenstored closed the connection");
            }

            got += n;
        }
    }
}
