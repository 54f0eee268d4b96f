using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>One host with xenstored (no netback) for the netfront handshake tests.</summary>
public sealed class NetfrontHandshakeHost : IDisposable
{
    public NetfrontHandshakeHost() => Host = new TestHost("xenstored");

    internal TestHost Host { get; }

    public string Socket => Path.Combine(Host.Dir, "xenstored.sock");

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// pvos's netfront against the real xenstored, with this test playing the backend's half of the
/// xenbus dance by xenstore-write (no netback: nobody serves the rings, so this is the handshake and
/// the reconnect only, spec §7 and ARCHITECTURE §6): the frontend publishes its keys and Connected when
/// the backend shows InitWait with feature-rx-copy, reports the link up on the backend's Connected
/// with the MAC and IP the toolstack wrote; when the backend state returns to InitWait (a restarted
/// netback, which resumes the same rings) it keeps its rings and state and carries on when the backend is
/// Connected again; when the backend closes, it tears down and publishes fresh rings on the next InitWait.
/// </summary>
public sealed partial class PvosNetfrontHandshakeTests(NetfrontHandshakeHost fixture) : IClassFixture<NetfrontHandshakeHost>
{
    private TestHost Host => fixture.Host;

    private string? XsRead(string path)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-read", path], TestHost.Bound);
        return r.ExitCode == 0 ? r.StdOut.Trim() : null;
    }

    private void XsWrite(string path, string value)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-write", path, value], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private void WaitForLog(string name, string text, int occurrences = 1) =>
        Assert.True(
            Eventually.Holds(() => Regex.Matches(Host.ConsoleLog(name), Regex.Escape(text)).Count >= occurrences, 60),
            $"no {occurrences}x '{text}' in:\n{Host.ConsoleLog(name)}");

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void NetfrontConnectsWhenTheBackendIsReadyKeepsItsRingsWhenItRestartsAndStartsOverWhenItCloses(string width)
    {
        var name = "nf-" + width;
        var cfg = Path.Combine(Host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = 8
            cmdline = "app=ping host=10.9.0.1 count=40 interval=250 net-timeout=120"
            vif = [ 'mac=00:16:3e:00:0a:0b, bridge=br0, ip=10.9.0.2/24' ]
            on_poweroff = "preserve"
            """);
        Host.MustRun("create", cfg);
        var id = TestHost.Id(Host.Domain(name)!.Value);
        var fe = $"/local/domain/{id}/device/vif/0";
        var be = $"/local/domain/0/backend/vif/{id}/0";

        // The backend is not there yet: the frontend waits, publishing nothing.
        Assert.True(Eventually.Holds(() => XsRead($"{fe}/state") == "1"), $"{fe}/state: {XsRead($"{fe}/state")}");
        Thread.Sleep(300);
        Assert.Null(XsRead($"{fe}/tx-ring-ref"));

        XsWrite($"{be}/feature-rx-copy", "1");
        XsWrite($"{be}/state", "2");
        Assert.True(Eventually.Holds(() => XsRead($"{fe}/state") == "4", 60), $"frontend state {XsRead($"{fe}/state")}:\n{Host.ConsoleLog(name)}");
        var first = Keys(fe);
        Assert.Equal("1", XsRead($"{fe}/request-rx-copy"));
        Assert.Equal("1", XsRead($"{fe}/feature-rx-notify"));
        Assert.All(first, k => Assert.True(uint.TryParse(k, out _), string.Join(',', first)));

        XsWrite($"{be}/state", "4");
        WaitForLog(name, "netfront: device/vif/0: connected to backend d0, mac 00:16:3e:00:0a:0b, ip 10.9.0.2");

        // The backend "restarts": its state goes back to InitWait. A netback resumes the rings it finds, so the
        // frontend keeps them (same keys, still Connected: frames it queues wait in the tx ring) and carries on
        // when the backend is Connected again; no second handshake.
        XsWrite($"{be}/state", "2");
        WaitForLog(name, "netfront: device/vif/0: backend restarted (InitWait again); rings kept");
        Assert.Equal("4", XsRead($"{fe}/state"));
        Assert.Equal(first, Keys(fe));
        XsWrite($"{be}/state", "4");
        WaitForLog(name, "netfront: device/vif/0: backend connected again; rings resumed");
        Assert.Equal(first, Keys(fe));

        // The backend closes: the frontend takes its rings down, and publishes new ones on the next InitWait.
        XsWrite($"{be}/state", "5");
        WaitForLog(name, "netfront: device/vif/0: backend Closing; link down");
        Assert.True(Eventually.Holds(() => XsRead($"{fe}/state") == "1"), $"frontend state {XsRead($"{fe}/state")}");
        XsWrite($"{be}/state", "2");
        WaitForLog(name, "netfront: device/vif/0: rings published", 2);
        Assert.True(Eventually.Holds(() => XsRead($"{fe}/state") == "4"), $"frontend state {XsRead($"{fe}/state")}");
        XsWrite($"{be}/state", "4");
        WaitForLog(name, "connected to backend d0", 2);

        // Nobody serves the rings: ping runs and reports every request lost, and the guest lives on.
        WaitForLog(name, "40 packets transmitted, 0 received, 100% packet loss");
        Host.MustRun("destroy", name);
    }

    private string[] Keys(string fe) =>
        [XsRead($"{fe}/tx-ring-ref") ?? "", XsRead($"{fe}/rx-ring-ref") ?? "", XsRead($"{fe}/event-channel") ?? ""];
}
