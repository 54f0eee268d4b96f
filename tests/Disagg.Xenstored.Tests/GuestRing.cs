using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Disagg.Abi.Io;
using Disagg.Interop;
using Disagg.Ring;
using Disagg.Xenstored.Transport.Ring;

namespace Disagg.Xenstored.Tests;

/// <summary>
/// The guest's side of a xenstore ring, as a guest kernel drives it: a memfd page and two eventfds
/// standing for the event channel, handed to xenstored's hand-off socket. It produces requests and
/// consumes responses with the guest's half of the index rules (spec §6).
/// </summary>
public sealed unsafe class GuestRing : IDisposable
{
    private readonly SharedMemorySegment _page = SharedMemorySegment.Create("xs-guest-ring", 1);
    private readonly Doorbell _kick = new();
    private readonly Doorbell _notify = new();
    private uint _nextReq = 1;

    public GuestRing(uint domainId)
    {
        DomainId = domainId;
    }

    public uint DomainId { get; }

    public Span<byte> Page => _page.Span;

    /// <summary>The guest produces requests and consumes responses: the same byte rings as the server's, other ends.</summary>
    private ByteRing Requests => XenstoreRing.Requests(Page);

    private ByteRing Responses => XenstoreRing.Responses(Page);

    public uint this[int offset]
    {
        get => Volatile.Read(ref *(uint*)(_page.Pointer + offset));
        set => Volatile.Write(ref *(uint*)(_page.Pointer + offset), value);
    }

    /// <summary>Gives the page to xenstored, as the kernel will when it maps the guest's xenstore frame.</summary>
    public void HandTo(string handoffSocket)
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Connect(new UnixDomainSocketEndPoint(handoffSocket));
        var id = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(id, DomainId);
        UnixRights.Send(s, id, [_page.Fd, _kick.Fd, _notify.Fd]);
        var ok = new byte[4];
        s.ReceiveTimeout = 10_000;
        Assert.Equal(4, s.Receive(ok));
    }

    public void Kick() => _kick.Ring();

    /// <summary>Writes bytes into the request ring (waiting for room), kicking after each chunk.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            Assert.True(Requests.TryWrite(bytes, out var n), "the request ring's indices are broken");
            if (n == 0)
            {
                _notify.Wait(TimeSpan.FromMilliseconds(50));
                continue;
            }

            _kick.Ring();
            bytes = bytes[n..];
        }
    }

    public uint Send(XsMessageType type, ReadOnlySpan<byte> payload, uint tx = 0)
    {
        var req = _nextReq++;
        var msg = new byte[16 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(msg, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(4), req);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(8), tx);
        BinaryPrimitives.WriteUInt32LittleEndian(msg.AsSpan(12), (uint)payload.Length);
        payload.CopyTo(msg.AsSpan(16));
        WriteRaw(msg);
        return req;
    }

    public XsReply Call(XsMessageType type, params string[] args) => CallTx(0, type, args);

    public XsReply CallTx(uint tx, XsMessageType type, params string[] args)
    {
        var req = Send(type, XsClient.Args(args), tx);
        while (true)
        {
            var r = ReadMessage();
            if (r.Type != XsMessageType.WatchEvent)
            {
                Assert.Equal(req, r.ReqId);
                return r;
            }

            Events.Enqueue(r);
        }
    }

    public XsReply Write(string path, string value) => Call2(XsMessageType.Write, Encoding.Latin1.GetBytes(path + "\0" + value));

    public Queue<XsReply> Events { get; } = new();

    public XsReply NextEvent() => Events.Count > 0 ? Events.Dequeue() : ReadMessage();

    public XsReply ReadMessage(int timeoutMs = 10_000)
    {
        var header = new byte[16];
        ReadExactly(header, timeoutMs);
        var payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12))];
        ReadExactly(payload, timeoutMs);
        return new XsReply((XsMessageType)BinaryPrimitives.ReadUInt32LittleEndian(header), BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)),
            BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8)), payload);
    }

    /// <summary>Waits for xenstored to signal us; false on timeout.</summary>
    public bool WaitForNotify(int timeoutMs) => _notify.Wait(TimeSpan.FromMilliseconds(timeoutMs));

    public void Dispose()
    {
        _page.Dispose();
        _kick.Dispose();
        _notify.Dispose();
    }

    private XsReply Call2(XsMessageType type, byte[] payload)
    {
        var req = Send(type, payload);
        while (true)
        {
            var r = ReadMessage();
            if (r.Type != XsMessageType.WatchEvent)
            {
                Assert.Equal(req, r.ReqId);
                return r;
            }

            Events.Enqueue(r);
        }
    }

    private void ReadExactly(Span<byte> destination, int timeoutMs)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        var got = 0;
        while (got < destination.Length)
        {
            Assert.True(Responses.TryRead(destination[got..], out var n), "the response ring's indices are broken");
            if (n == 0)
            {
                Assert.True(Environment.TickCount64 < deadline, "no response from xenstored on the ring");
                _notify.Wait(TimeSpan.FromMilliseconds(20));
                continue;
            }

            _kick.Ring();
            got += n;
        }
    }
}
