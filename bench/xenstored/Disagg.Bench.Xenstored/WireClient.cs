using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Disagg.Abi.Io;

namespace Disagg.Bench.Xenstored;

/// <summary>A blocking xs_wire client with preallocated buffers: the measured loop allocates nothing of its own.</summary>
internal sealed class WireClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _out = new byte[16 + XsWireHeader.MaxPayload];
    private readonly byte[] _in = new byte[16 + XsWireHeader.MaxPayload];

    public WireClient(string path)
    {
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Connect(new UnixDomainSocketEndPoint(path));
    }

    public XsMessageType LastType { get; private set; }

    public ReadOnlySpan<byte> LastPayload => _in.AsSpan(16, (int)BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(12)));

    /// <summary>Builds a request "a\0b\0" (or "a\0b" for a write) in the send buffer; returns its length.</summary>
    public int Build(XsMessageType type, uint tx, string first, string? second, bool nulAfterSecond)
    {
        var n = 16 + Encoding.ASCII.GetBytes(first, _out.AsSpan(16));
        _out[n++] = 0;
        if (second is not null)
        {
            n += Encoding.ASCII.GetBytes(second, _out.AsSpan(n));
            if (nulAfterSecond)
            {
                _out[n++] = 0;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_out, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(_out.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(_out.AsSpan(8), tx);
        BinaryPrimitives.WriteUInt32LittleEndian(_out.AsSpan(12), (uint)(n - 16));
        return n;
    }

    /// <summary>Sends the built request and reads messages until its reply (watch events are skipped).</summary>
    public XsMessageType Roundtrip(int length)
    {
        _socket.Send(_out.AsSpan(0, length));
        while (true)
        {
            var type = Receive();
            if (type != XsMessageType.WatchEvent)
            {
                return type;
            }
        }
    }

    public XsMessageType Call(XsMessageType type, uint tx, string first, string? second = null, bool nulAfterSecond = true) =>
        Roundtrip(Build(type, tx, first, second, nulAfterSecond));

    public void SendOnly(int length) => _socket.Send(_out.AsSpan(0, length));

    public XsMessageType Receive()
    {
        ReadExactly(_in.AsSpan(0, 16));
        var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(_in.AsSpan(12));
        ReadExactly(_in.AsSpan(16, len));
        LastType = (XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(_in);
        return LastType;
    }

    public uint StartTransaction()
    {
        Call(XsMessageType.TransactionStart, 0, "");
        var text = LastPayload[..^1];
        return uint.Parse(Encoding.ASCII.GetString(text), System.Globalization.CultureInfo.InvariantCulture);
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
