using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Driver domains chosen per device, the point of disaggregation: `service add` runs a second netback (its own
/// process, domain id, state dir and bridge), xl's backend= places a vif on it, and killing the host's other
/// netback leaves the guests on the second one untouched. A backend= that names nothing, or a service of the
/// wrong kind, is refused before anything is created.
/// </summary>
public sealed class DriverDomainTests
{
    [Fact]
    public void BackendPlacesAVifOnAnAddedNetbackThatAKilledNetbackDoesNotDisturb()
    {
        using var host = new TestHost("xenstored,netback");
        var added = host.MustRun("service", "add", "netback2", "--kind", "netback").StdOut;
        Assert.Matches(@"service 'netback2' \(netback\) serving as domain \d+, pid \d+", added);
        var second = host.Service("netback2");
        var secondDomain = TestHost.Int(second, "domain_id");
        var secondPid = TestHost.Int(second, "pid");
        Assert.NotEqual(TestHost.Int(host.Service("netback"), "domain_id"), secondDomain);
        Assert.Contains($"--state-dir\0{Path.Combine(host.Dir, "netback2")}", File.ReadAllText($"/proc/{secondPid}/cmdline"), StringComparison.Ordinal);

        // Names are single: a second netback2 is refused, and so is a kind that is not a driver domain (a usage error).
        var again = host.Run("service", "add", "netback2", "--kind", "netback");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("service 'netback2' already exists", again.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, host.Run("service", "add", "other", "--kind", "xenstored").ExitCode);

        var b = Start(host, "dd-echo", "app=udp-echo port=7", "00:16:3e:00:0d:02", "10.13.0.2/24");
        Assert.Equal(secondDomain.ToString(CultureInfo.InvariantCulture), host.XsRead($"/local/domain/{b}/device/vif/0/backend-id"));
        Assert.True(Eventually.Holds(() => host.ConsoleLog("dd-echo").Contains("udp-echo: listening", StringComparison.Ordinal), 90), host.ConsoleLog("dd-echo"));
        var a = Start(host, "dd-ping", "app=ping host=10.13.0.2 count=24 interval=250 ip=10.13.0.1", "00:16:3e:00:0d:01", null);
        Assert.True(Eventually.Holds(() => host.XsRead($"/local/domain/{secondDomain}/backend/vif/{a}/0/state") == "4", 90), "netback2 connects the vif");
        Assert.True(Eventually.Holds(() => host.ConsoleLog("dd-ping").Contains("icmp_seq=3 time=", StringComparison.Ordinal), 90), host.ConsoleLog("dd-ping"));

        // The host's own netback dies and is restarted; the second one never notices, nor do its guests.
        var firstPid = TestHost.Int(host.Service("netback"), "pid");
        host.MustRun("service", "kill", "netback");
        Assert.True(Eventually.Holds(() => host.Service("netback").TryGetProperty("pid", out var p) && p.GetInt32() != firstPid && host.Service("netback").GetProperty("state").GetString() == "running"));
        Match summary = Match.Empty;
        Assert.True(
            Eventually.Holds(() => (summary = Regex.Match(host.ConsoleLog("dd-ping"), @"24 packets transmitted, (?<got>\d+) received")).Success, 120),
            host.ConsoleLog("dd-ping"));
        Assert.True(int.Parse(summary.Groups["got"].Value, CultureInfo.InvariantCulture) >= 20, host.ConsoleLog("dd-ping"));
        foreach (var guest in new[] { "dd-ping", "dd-echo" })
        {
            // One connection for the guest's whole life: its backend never went away.
            Assert.Single(Regex.Matches(host.ConsoleLog(guest), @"netfront: device/vif/0: connected to backend d(\d+)"));
            Assert.Contains($"connected to backend d{secondDomain}", host.ConsoleLog(guest), StringComparison.Ordinal);
        }

        var after = host.Service("netback2");
        Assert.Equal(secondPid, TestHost.Int(after, "pid"));
        Assert.Equal(0, TestHost.Int(after, "restarts"));
        host.MustRun("destroy", "dd-ping");
        host.MustRun("destroy", "dd-echo");
        Assert.True(Eventually.Holds(() => host.XsRead($"/local/domain/{secondDomain}/backend/vif/{a}") is null), "the vif's directory goes from the domain that served it");
    }

    [Fact]
    public void ABackendThatIsNotADriverDomainOfTheDevicesKindIsRefusedBeforeAnythingExists()
    {
        using var host = new TestHost("xenstored,netback,blkback");
        host.MustRun("service", "add", "netback2", "--kind", "netback");
        var image = Path.Combine(host.GuestDir, "dd.img");
        File.WriteAllBytes(image, new byte[1 << 20]);

        var nowhere = Create(host, "dd-nowhere", "vif = [ 'backend=nosuch' ]");
        Assert.Equal(1, nowhere.ExitCode);
        Assert.Contains("vif backend=nosuch: no such service domain on this host", nowhere.StdErr, StringComparison.Ordinal);

        var wrongKind = Create(host, "dd-wrong", $"disk = [ 'format=raw, vdev=xvda, backend=netback2, target={image}' ]");
        Assert.Equal(1, wrongKind.ExitCode);
        Assert.Contains("vbd backend=netback2: service 'netback2' is a netback, and a vbd needs a blkback", wrongKind.StdErr, StringComparison.Ordinal);

        var notAService = Create(host, "dd-probe", "vif = [ 'backend=probe' ]");
        Assert.Equal(1, notAService.ExitCode);
        Assert.Contains("service 'probe' is not a driver domain", notAService.StdErr, StringComparison.Ordinal);

        var badName = host.Run("create", "-n", Config(host, "dd-bad", "vif = [ 'backend=../x' ]"));
        Assert.Equal(1, badName.ExitCode);
        Assert.Contains("backend '../x' must be", badName.StdErr, StringComparison.Ordinal);

        Assert.Null(host.Domain("dd-nowhere"));
        Assert.Null(host.Domain("dd-wrong"));
        Assert.Null(host.Domain("dd-probe"));

        // By domain id, as xl accepts it too; the built-in blkback still serves disks without backend=.
        var byId = Create(host, "dd-byid", $"vif = [ 'backend={TestHost.Int(host.Service("netback2"), "domain_id")}' ]\ndisk = [ 'format=raw, vdev=xvda, target={image}' ]");
        Assert.True(byId.ExitCode == 0, byId.ToString());
        var id = TestHost.Id(host.Domain("dd-byid")!.Value);
        Assert.Equal(TestHost.Int(host.Service("netback2"), "domain_id").ToString(CultureInfo.InvariantCulture), host.XsRead($"/local/domain/{id}/device/vif/0/backend-id"));
        Assert.Equal(TestHost.Int(host.Service("blkback"), "domain_id").ToString(CultureInfo.InvariantCulture), host.XsRead($"/local/domain/{id}/device/vbd/51712/backend-id"));
        host.MustRun("destroy", "dd-byid");
    }

    private static string Config(TestHost host, string name, string devices)
    {
        var cfg = Path.Combine(host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf")}"
            memory = 8
            cmdline = "app=echo"
            {devices}
            """);
        return cfg;
    }

    private static ProcessResult Create(TestHost host, string name, string devices) => host.Run("create", Config(host, name, devices));

    /// <summary>A pvos guest whose vif 0 goes to netback2 (backend=); returns its domain id.</summary>
    private static string Start(TestHost host, string name, string cmdline, string mac, string? vifIp)
    {
        var cfg = Path.Combine(host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf")}"
            memory = 8
            cmdline = "{cmdline}"
            vif = [ 'mac={mac}, bridge=xenbr0, backend=netback2{(vifIp is null ? "" : ", ip=" + vifIp)}' ]
            on_poweroff = "preserve"
            """);
        host.MustRun("create", cfg);
        return TestHost.Id(host.Domain(name)!.Value);
    }
}
