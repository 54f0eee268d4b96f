using System.Net.Sockets;
using Disagg.Interop;
using Disagg.Ring;
using Disagg.Ring.Peer;

// The other process in the ring tests. Modes:
//   back SOCKET SEED SLEEPY  : receive [segment, request bell, response bell], serve a BackRing until EndOfTest
//   map SOCKET               : receive a segment, check the test's pattern, write ours, exit
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Disagg.Ring.Peer back SOCKET SEED SLEEPY | map SOCKET");
    return 2;
}

using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
socket.Connect(new UnixDomainSocketEndPoint(args[1]));
var header = new byte[8];
var n = UnixRights.Receive(socket, header, out var fds);
if (n != 8)
{
    Console.Error.WriteLine($"peer: expected an 8-byte header with the fds, got {n} bytes and {fds.Length} fds");
    return 3;
}

var pages = BitConverter.ToInt64(header);
return args[0] switch
{
    "back" => Back.Serve(fds, pages, int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), args[3] == "1"),
    "map" => MapCheck(fds[0], pages),
    _ => 2,
};

static unsafe int MapCheck(FileDescriptor fd, long pages)
{
    using var segment = SharedMemorySegment.Map(fd, pages);
    for (var i = 0; i < segment.Length; i++)
    {
        if (segment.Pointer[i] != (byte)(i * 7))
        {
            Console.Error.WriteLine($"peer: byte {i} is {segment.Pointer[i]}, expected {(byte)(i * 7)}");
            return 4;
        }
    }

    for (var i = 0; i < segment.Length; i++)
    {
        segment.Pointer[i] = (byte)(i * 13);
    }

    return 0;
}
