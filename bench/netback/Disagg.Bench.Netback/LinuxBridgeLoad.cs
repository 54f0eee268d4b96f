using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Disagg.Bench.Netback;

/// <summary>
/// The floor: Linux's own bridge, in a namespace of its own, with two veth pairs to two namespaces; a UDP sender
/// in one and a receiver in the other (this program re-executed inside each with ip netns exec), frames of the
/// same size as netback's, for the same time. Everything is deleted afterwards.
/// </summary>
internal sealed class LinuxBridgeLoad : IDisposable
{
    private readonly string _tag = "nbb" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public LinuxBridgeLoad()
    {
        string Ns(string n) => _tag + n;
        Ip("netns", "add", Ns("br"));
        Ip("netns", "add", Ns("a"));
        Ip("netns", "add", Ns("b"));
        Ip("-n", Ns("br"), "link", "add", "br0", "type", "bridge");
        foreach (var (side, addr) in new[] { ("a", "10.77.0.1/24"), ("b", "10.77.0.2/24") })
        {
            Ip("-n", Ns("br"), "link", "add", "p" + side, "type", "veth", "peer", "name", "eth0", "netns", Ns(side));
            Ip("-n", Ns("br"), "link", "set", "p" + side, "master", "br0", "up");
            Ip("-n", Ns(side), "addr", "add", addr, "dev", "eth0");
            Ip("-n", Ns(side), "link", "set", "eth0", "up");
            Ip("-n", Ns(side), "link", "set", "lo", "up");
        }

        Ip("-n", Ns("br"), "link", "set", "br0", "up");
    }

    /// <summary>Runs the receiver and the sender for <paramref name="seconds"/>; returns datagrams received and over how long.</summary>
    public (double Frames, double Seconds) Run(int frameSize, double seconds)
    {
        var payload = frameSize - 14 - 20 - 8;
        // This program's own executable (the apphost next to its dll), re-run inside each namespace.
        var prefix = new[] { Path.Combine(AppContext.BaseDirectory, "Disagg.Bench.Netback") };
        var rx = Start([.. prefix, "--udp-recv", "9000", (seconds + 1).ToString(CultureInfo.InvariantCulture)], _tag + "b");
        Thread.Sleep(300);
        var tx = Start([.. prefix, "--udp-send", "10.77.0.2", "9000", payload.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture)], _tag + "a");
        tx.WaitForExit();
        var line = rx.StandardOutput.ReadToEnd();
        rx.WaitForExit();
        var parts = line.Trim().Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        foreach (var n in new[] { "a", "b", "br" })
        {
            Ip("netns", "del", _tag + n);
        }
    }

    /// <summary>The sender inside its namespace: UDP datagrams as fast as one thread can send them.</summary>
    public static int Send(string host, int port, int payload, double seconds)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Connect(new IPEndPoint(IPAddress.Parse(host), port));
        var data = new byte[payload];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (var i = 0; i < 256; i++)
            {
                try
                {
                    s.Send(data);
                }
                catch (SocketException)
                {
                    // ENOBUFS/ECONNREFUSED under overload: the datagram is lost, as on any full link
                }
            }
        }

        return 0;
    }

    /// <summary>The receiver: counts datagrams between the first one and the end; prints the count and the seconds.</summary>
    public static int Receive(int port, double seconds)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.ReceiveBufferSize = 8 << 20;
        s.Bind(new IPEndPoint(IPAddress.Any, port));
        s.ReceiveTimeout = 500;
        var buffer = new byte[65536];
        long n = 0;
        Stopwatch? clock = null;
        var last = TimeSpan.Zero;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed.TotalSeconds < seconds + 2)
        {
            try
            {
                s.Receive(buffer);
            }
            catch (SocketException)
            {
                if (clock is not null)
                {
                    break; // the sender stopped
                }

                continue;
            }

            clock ??= Stopwatch.StartNew();
            n++;
            last = clock.Elapsed;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{n} {Math.Max(last.TotalSeconds, 1e-3)}"));
        return 0;
    }

    private static Process Start(string[] command, string ns)
    {
        var psi = new ProcessStartInfo("/usr/sbin/ip") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns }.Concat(command))
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi)!;
    }

    private static void Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/sbin/ip") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)}: {err}");
        }
    }
}
