using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>A host with xenstored and the real disagg-netback as its built-in service domain 2, which the toolstack puts every vif under.</summary>
public sealed class NetbackHost : IDisposable
{
    public NetbackHost() => Host = new TestHost("xenstored,netback");

    internal TestHost Host { get; }

    public string Socket => Path.Combine(Host.Dir, "xenstored.sock");

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// Two pvos guests on one netback bridge, everything real (kernel, xenstored, netback, netfront, the pvos
/// stack): ping with its per-reply times and loss, UDP echo, UDP blast with the receiver's count, and a
/// SIGKILLed netback that the guests' traffic survives.
/// </summary>
public sealed partial class PvosNetworkTests(NetbackHost fixture) : IClassFixture<NetbackHost>
{
    private TestHost Host => fixture.Host;

    private int NetbackDomain =>
        Host.Json("service", "list").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "netback").GetProperty("domain_id").GetInt32();

    private string? XsRead(string path)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-read", path], TestHost.Bound);
        return r.ExitCode == 0 ? r.StdOut.Trim() : null;
    }

    /// <summary>Creates a pvos guest whose vif 0 the toolstack hands to netback; returns its domain id.</summary>
    private string Start(string name, string width, string cmdline, string mac, string? vifIp = null)
    {
        var cfg = Path.Combine(Host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = 8
            cmdline = "{cmdline}"
            vif = [ 'mac={mac}, bridge=xenbr0{(vifIp is null ? "" : ", ip=" + vifIp)}' ]
            on_poweroff = "preserve"
            """);
        Host.MustRun("create", cfg);
        var id = TestHost.Id(Host.Domain(name)!.Value);
        Assert.Equal(NetbackDomain.ToString(CultureInfo.InvariantCulture), XsRead($"/local/domain/{id}/device/vif/0/backend-id"));
        return id;
    }

    private void Stop(string name, string id)
    {
        Host.MustRun("destroy", name);
        Assert.True(Eventually.Holds(() => XsRead($"/local/domain/{NetbackDomain}/backend/vif/{id}/0/state") is null), "the toolstack removes the vif's backend directory");
    }

    private string Log(string name) => Host.ConsoleLog(name);

    private Match WaitFor(string name, string pattern, double seconds = 90)
    {
        Match m = Match.Empty;
        Assert.True(Eventually.Holds(() => (m = Regex.Match(Log(name), pattern)).Success, seconds), $"no /{pattern}/ in {name}'s console:\n{Log(name)}");
        return m;
    }

    private static long N(Match m, string group) => long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void TwoGuestsOfEachWidthPingAndEchoThroughNetback()
    {
        // B (rv32) takes its address from the vif config (the backend's "ip" key); A (rv64) from ip=.
        var b = Start("echo-b", "rv32", "app=udp-echo port=7 count=3", "00:16:3e:00:01:02", "10.7.0.2/24");
        WaitFor("echo-b", @"udp-echo: listening on 10\.7\.0\.2:7");
        var a = Start("ping-a", "rv64", "app=ping host=10.7.0.2 count=5 interval=200 ip=10.7.0.1", "00:16:3e:00:01:01");
        WaitFor("ping-a", @"netfront: device/vif/0: connected to backend d\d+, mac 00:16:3e:00:01:01, ip 10\.7\.0\.1");
        var summary = WaitFor("ping-a", @"5 packets transmitted, (?<got>\d+) received, (?<loss>\d+)% packet loss");
        Assert.True(N(summary, "got") == 5, Log("ping-a"));
        for (var seq = 1; seq <= 5; seq++)
        {
            Assert.Matches($@"64 bytes from 10\.7\.0\.2: icmp_seq={seq} time=\d+\.\d{{3}} ms", Log("ping-a"));
        }

        Assert.Matches(@"rtt min/avg/max = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms", Log("ping-a"));

        // Then a UDP round trip the other way round: a blast from A to B's echo port comes back.
        Stop("ping-a", a);
        var a2 = Start("blast-a", "rv64", "app=udp-blast host=10.7.0.2 port=7 seconds=1 rate=3 size=64 ip=10.7.0.1", "00:16:3e:00:01:01");
        var blast = WaitFor("blast-a", @"udp-blast: sent (?<sent>\d+) datagrams .* (?<echoes>\d+) echoes back");
        Assert.True(N(blast, "echoes") >= 3 && N(blast, "sent") >= 3, Log("blast-a"));
        WaitFor("echo-b", @"udp-echo: done: 3 datagrams echoed \(\d+ bytes, 0 not sent back\)");
        Stop("blast-a", a2);
        Stop("echo-b", b);
    }

    [Fact]
    public void UdpBlastReportsThroughputAndTheSinkCountsWhatArrived()
    {
        var s = Start("sink", "rv64", "app=udp-sink port=9000 seconds=60", "00:16:3e:00:02:02", "10.8.0.2/24");
        WaitFor("sink", @"udp-sink: listening on 10\.8\.0\.2:9000");
        var a = Start("blast", "rv32", "app=udp-blast host=10.8.0.2 port=9000 seconds=3 size=1024", "00:16:3e:00:02:01", "10.8.0.1/24");
        var sent = WaitFor("blast", @"udp-blast: sent (?<sent>\d+) datagrams \((?<bytes>\d+) bytes\) in (?<ms>\d+) ms: (?<pps>\d+) datagrams/s, (?<kbps>\d+) kbit/s");
        var got = WaitFor("sink", @"udp-sink: end marker: received (?<got>\d+) of (?<of>\d+) datagrams from 10\.8\.0\.1 \((?<lost>\d+) lost\), (?<bytes>\d+) bytes in \d+ ms, (?<kbps>\d+) kbit/s");
        Assert.Equal(N(sent, "sent"), N(got, "of"));
        Assert.Equal(N(got, "of"), N(got, "got") + N(got, "lost"));
        Assert.Equal(N(got, "got") * 1024, N(got, "bytes"));
        Assert.True(N(got, "got") > 0 && N(sent, "sent") > 100, $"{Log("blast")}\n{Log("sink")}");
        Console.WriteLine($"udp-blast: {sent.Value}; sink: {got.Value}");
        Stop("blast", a);
        Stop("sink", s);
    }

    [Fact]
    public void PingSurvivesNetbackBeingKilledAndRestarted()
    {
        var b = Start("kill-b", "rv64", "app=udp-echo port=7", "00:16:3e:00:03:02", "10.6.0.2/24");
        WaitFor("kill-b", @"udp-echo: listening");
        var a = Start("kill-a", "rv32", "app=ping host=10.6.0.2 count=60 interval=250 ip=10.6.0.1", "00:16:3e:00:03:01");
        WaitFor("kill-a", @"icmp_seq=3 time=");
        Host.MustRun("service", "kill", "netback");

        // Replies resume after the restart: ten more than had come back when it was killed.
        var before = Regex.Matches(Log("kill-a"), @"icmp_seq=(\d+) time=").Count;
        Assert.True(Eventually.Holds(() => Regex.Matches(Log("kill-a"), @"icmp_seq=(\d+) time=").Count >= before + 10, 60), Log("kill-a"));
        var summary = WaitFor("kill-a", @"60 packets transmitted, (?<got>\d+) received, (?<loss>\d+)% packet loss", 120);
        Assert.True(N(summary, "got") >= 30, Log("kill-a"));
        Console.WriteLine($"ping across a netback kill: {summary.Value}");
        foreach (var line in Log("kill-a").Split('\n').Where(l => l.Contains("netfront", StringComparison.Ordinal)))
        {
            Console.WriteLine(line); // how the frontend went through it, for the record
        }
        Stop("kill-a", a);
        Stop("kill-b", b);
    }
}
