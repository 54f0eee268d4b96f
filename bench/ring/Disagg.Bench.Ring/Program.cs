using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Disagg.Bench;
using Disagg.Bench.Ring;
using Disagg.Interop;
using Disagg.Ring;

// bench/ring: cross-process ring figures beside floors measured between the same two processes.
//   Disagg.Bench.Ring                 run every measurement, print "bench: ring/..." lines
//   Disagg.Bench.Ring peer SOCK MODE N   (internal) the other process
if (args.Length == 4 && args[0] == "peer")
{
    using var sock = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    sock.Connect(new UnixDomainSocketEndPoint(args[1]));
    var header = new byte[8];
    UnixRights.Receive(sock, header, out var fds);
    using var shm = SharedMemorySegment.Map(fds[0], BitConverter.ToInt64(header));
    using var toPeer = new Doorbell(fds[1]);
    using var fromPeer = new Doorbell(fds[2]);
    return Peer.Run(args[2], shm, toPeer, fromPeer, long.Parse(args[3], CultureInfo.InvariantCulture));
}

const int RoundTrips = 100_000;
const long OneWay = 20_000_000;
var eventfd = Measure.PingPongEventfd(RoundTrips);
Report("eventfd-pingpong", eventfd, "us");
var spin = Measure.PingPongSpin(RoundTrips * 10);
Report("spin-pingpong", spin, "us");
var ringSleep = Measure.RingRoundTrip(RoundTrips, sleeping: true);
Report("roundtrip-sleeping", ringSleep, "us", ringSleep / eventfd, "eventfd-pingpong");
var ringSpin = Measure.RingRoundTrip(RoundTrips * 10, sleeping: false);
Report("roundtrip-spinning", ringSpin, "us", ringSpin / spin, "spin-pingpong");
var batched = Measure.OneWay(OneWay, sleeping: false);
Report("oneway-batched", batched, "Mreq/s");
var sleepingConsumer = Measure.OneWay(OneWay, sleeping: true);
Report("oneway-sleeping-consumer", sleepingConsumer, "Mreq/s", sleepingConsumer / batched, "oneway-batched");
return 0;

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("ring", "0.###").Figure(figure, value, unit, ratio, versus);
