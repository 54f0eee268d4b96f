using System.Buffers.Binary;
using System.Net.Sockets;

namespace Disagg.Bench.Xenstored;

/// <summary>
/// The floor: a Unix-socket server that answers each xs_wire-framed request with the same bytes,
/// one thread per client. No store, no journal: what a request/response over this socket costs on
/// this machine right now.
/// </summary>
internal sealed class EchoFloor : IDisposable
{
    private readonly Socket _listener;
    private readonly Thread _accept;

    public EchoFloor(string path)
    {
        Path = path;
        File.Delete(path);
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(64);
        _accept = new Thread(Accept) { IsBackground = true };
        _accept.Start();
    }

    public string Path { get; }

    public void Dispose()
    {
        _listener.Dispose();
        File.Delete(Path);
    }

    private void Accept()
    {
        while (true)
        {
            Socket s;
            try
            {
                s = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            new Thread(() => Echo(s)) { IsBackground = true }.Start();
        }
    }

    private static void Echo(Socket s)
    {
        var buffer = new byte[16 + 4096];
        try
        {
            while (true)
            {
                if (!Fill(s, buffer.AsSpan(0, 16)))
                {
                    return;
                }

                var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(12));
                if (!Fill(s, buffer.AsSpan(16, len)))
                {
                    return;
                }

                s.Send(buffer.AsSpan(0, 16 + len));
            }
        }
        catch (SocketException)
        {
        }
        finally
        {
            s.Dispose();
        }
    }

    private static bool Fill(Socket s, Span<byte> b)
    {
        var got = 0;
        while (got < b.Length)
        {
            var n = s.Receive(b[got..]);
            if (n == 0)
            {
                return false;
            }

            got += n;
        }

        return true;
    }
}
