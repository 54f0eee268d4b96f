using System.Diagnostics;
using System.Net.Sockets;
using Disagg.Interop;
using Disagg.Ring;

namespace Disagg.Bench.Ring;

/// <summary>Each measurement: start a peer process, hand it the shared memory and doorbells, time the exchange.</summary>
internal static unsafe class Measure
{
    private const int RingPages = 16; // a 64 KiB ring: 512 slots of 64 bytes, room to batch

    public static double PingPongEventfd(int n) => WithPeer("eventfd", n, (shm, toPeer, fromPeer) =>
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            toPeer.Ring();
            fromPeer.Wait(Timeout.InfiniteTimeSpan);
        }

        return sw.Elapsed.TotalMicroseconds / n;
    });

    public static double PingPongSpin(int n) => WithPeer("spin", n, (shm, _, _) =>
    {
        var word = (long*)shm.Pointer;
        var sw = Stopwatch.StartNew();
        for (long i = 1; i <= n; i++)
        {
            Volatile.Write(ref word[0], i);
            while (Volatile.Read(ref word[8]) != i)
            {
            }
        }

        return sw.Elapsed.TotalMicroseconds / n;
    });

    public static double RingRoundTrip(int n, bool sleeping) => WithPeer(sleeping ? "ring-sleeping" : "ring-spinning", n, (shm, requests, responses) =>
    {
        var ring = new FrontRing<Message, Ack>("bench", shm.Pointer + 4096, (int)shm.Length - 4096);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            ring.NextRequest().Seq = (ulong)i;
            if (ring.PushRequests())
            {
                requests.Ring();
            }

            while (!ring.TryTakeResponse(out _))
            {
                if (sleeping && !ring.FinalCheckForResponses())
                {
                    responses.Wait(Timeout.InfiniteTimeSpan);
                }
            }
        }

        return sw.Elapsed.TotalMicroseconds / n;
    });

    /// <summary>64-byte requests one way as fast as the consumer takes them (responses only free slots).</summary>
    public static double OneWay(long n, bool sleeping) => WithPeer(sleeping ? "oneway-sleeping" : "oneway-spinning", n, (shm, requests, responses) =>
    {
        var ring = new FrontRing<Message, Ack>("bench", shm.Pointer + 4096, (int)shm.Length - 4096);
        Span<Ack> acks = stackalloc Ack[256];
        long sent = 0, acked = 0;
        var sw = Stopwatch.StartNew();
        while (acked < n)
        {
            var room = (int)Math.Min(ring.FreeRequests, n - sent);
            for (var i = 0; i < room; i++)
            {
                ring.NextRequest().Seq = (ulong)sent++;
            }

            if (room > 0 && ring.PushRequests())
            {
                requests.Ring();
            }

            acked += ring.TakeResponses(acks);
            if (ring.FreeRequests == 0 && sleeping && !ring.FinalCheckForResponses())
            {
                responses.Wait(Timeout.InfiniteTimeSpan);
            }
        }

        return n / sw.Elapsed.TotalSeconds / 1e6;
    });

    private static double WithPeer(string mode, long count, Func<SharedMemorySegment, Doorbell, Doorbell, double> run)
    {
        var dir = Directory.CreateTempSubdirectory("disagg-bench-ring-").FullName;
        var path = Path.Combine(dir, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var shm = SharedMemorySegment.Create("bench-ring", 1 + RingPages);
        using var toPeer = new Doorbell();
        using var fromPeer = new Doorbell();
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        foreach (var a in new[] { "peer", path, mode, count.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        using var peer = Process.Start(psi)!;
        using (var conn = listener.Accept())
        {
            UnixRights.Send(conn, BitConverter.GetBytes(1L + RingPages), [shm.Fd, toPeer.Fd, fromPeer.Fd]);
        }

        var result = run(shm, toPeer, fromPeer);
        if (!peer.WaitForExit(TimeSpan.FromSeconds(60)) || peer.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench peer ({mode}) failed");
        }

        Directory.Delete(dir, recursive: true);
        return result;
    }
}
