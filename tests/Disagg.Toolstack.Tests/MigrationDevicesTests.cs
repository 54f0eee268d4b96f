using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>Two hosts with xenstored, netback and blkback, listening for migrations with one shared key file.</summary>
public sealed partial class DeviceHosts : IDisposable
{
    public DeviceHosts()
    {
        KeyDir = Directory.CreateTempSubdirectory("dtd-").FullName;
        KeyFile = Path.Combine(KeyDir, "migration.key");
        File.WriteAllText(KeyFile, "another-test-key-of-32-bytes-0123456\n");
        A = new TestHost("xenstored,netback,blkback", $"listen = 127.0.0.1:0\nmigration_key_file = {KeyFile}");
        B = new TestHost("xenstored,netback,blkback", $"listen = 127.0.0.1:0\nmigration_key_file = {KeyFile}");
    }

    public string KeyDir { get; }

    public string KeyFile { get; }

    internal TestHost A { get; }

    internal TestHost B { get; }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        Directory.Delete(KeyDir, recursive: true);
    }
}

/// <summary>
/// PV guests with disks and network migrate (issue 14): each suspends itself for the stop-and-copy, its devices
/// are recreated on the target from the config on shared storage, its frontends reconnect there, and blk-verify
/// and ping go on with zero mismatches; the source's blkback flushes and closes the disk before the target's opens it.
/// </summary>
public sealed partial class MigrationDevicesTests(DeviceHosts hosts) : IClassFixture<DeviceHosts>
{
    private static readonly TimeSpan MigrateBound = TimeSpan.FromSeconds(180);

    [GeneratedRegex(@"icmp_seq=\d+ time=")]
    private static partial Regex Reply();

    private static string Start(TestHost host, string name, string cmdline, string width = "rv64", string extra = "")
    {
        var cfg = Path.Combine(host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = 16
            cmdline = "{cmdline}"
            on_poweroff = "preserve"
            {extra}
            """);
        host.MustRun("create", cfg);
        return name;
    }

    private static Match WaitFor(TestHost host, string name, string pattern, double seconds = 120)
    {
        Match? m = null;
        Assert.True(Eventually.Holds(() => (m = Regex.Match(host.ConsoleLog(name), pattern)).Success, seconds), $"no '{pattern}' in the log of {name}:\n{host.ConsoleLog(name)}");
        return m!;
    }

    private static string Endpoint(TestHost host)
    {
        string? found = null;
        Assert.True(Eventually.Holds(() => (found = Regex.Match(File.ReadAllText(Path.Combine(host.Dir, "disagg.log")), @"migration: listening on (127\.0\.0\.1:[0-9]+)") is { Success: true } m ? m.Groups[1].Value : null) is not null), "no listening line");
        return found!;
    }

    private JsonElement Migrate(TestHost from, string name, TestHost to)
    {
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", name, Endpoint(to), "--key-file", hosts.KeyFile, "--json", "--state-dir", from.Dir], MigrateBound);
        Assert.True(r.ExitCode == 0, r.ToString());
        var reply = JsonDocument.Parse(r.StdOut).RootElement.Clone();
        Assert.True(reply.GetProperty("suspend_us").GetInt64() > 0, r.StdOut); // it suspended itself
        Assert.True(reply.GetProperty("downtime_us").GetInt64() > 0, r.StdOut);
        Assert.Null(from.Domain(name));
        Assert.NotNull(to.Domain(name));
        return reply;
    }

    private static void Xs(TestHost host, params string[] args)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(host.Dir, "xenstored.sock")}", .. args], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void BlkVerifyAndPingCarryOnAcrossAMigrationAndTheDiskIsFlushedBeforeTheTargetOpensIt()
    {
        var (a, b) = (hosts.A, hosts.B);
        var disk = Path.Combine(a.GuestDir, "mig.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(8L << 20);
        }

        // A peer on the target's switch that learns nothing of the echo guest until it arrives: then it hears it
        // announced (a RARP from its MAC, sent by netback when the migrated vif connects), as a TAP uplink's would.
        var peer = Start(b, "mg-peer", "app=udp-echo port=7", extra: "vif = [ 'mac=00:16:3e:00:0f:03, bridge=xenbr0, ip=10.9.1.3/24' ]");
        var echo = Start(a, "mg-echo", "app=udp-echo port=7", extra: "vif = [ 'mac=00:16:3e:00:0f:02, bridge=xenbr0, ip=10.9.1.2/24' ]");
        WaitFor(a, echo, @"udp-echo: listening");
        WaitFor(b, peer, @"udp-echo: listening");
        var ping = Start(a, "mg-ping", "app=ping host=10.9.1.2 count=400 interval=250 ip=10.9.1.1", "rv32", "vif = [ 'mac=00:16:3e:00:0f:01, bridge=xenbr0' ]");
        var blk = Start(a, "mg-blk", "app=blk-verify sectors=2048 depth=8 req=32 seconds=90", extra: $"disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]");
        WaitFor(a, ping, @"icmp_seq=3 time=");
        WaitFor(a, blk, @"blk-verify: pass 1:");

        // The pair moves together (the two hosts' switches are not linked): the pings follow the guest. First, while
        // the ping guest has most of its 400 pings to go.
        Migrate(a, echo, b);
        WaitFor(b, peer, @"net: rarp announce from 00:16:3e:00:0f:02");
        Assert.Matches(@"vif \d+/0 of domain \d+: announced 00:16:3e:00:0f:02 on xenbr0", File.ReadAllText(Path.Combine(b.Dir, "netback.log")));
        Migrate(a, ping, b);
        var pingResumed = WaitFor(b, ping, @"pvos: resumed in a new domain");
        WaitFor(b, ping, @"netfront: device/vif/0: connected to backend d\d+");

        // Carried like a save carries them: a disk hot-plugged after create, and a node the guest owns.
        var extra = Path.Combine(a.GuestDir, "mig-extra.img");
        using (var f = File.Create(extra))
        {
            f.SetLength(1L << 20);
        }

        a.MustRun("block-attach", blk, $"format=raw, vdev=xvdb, access=ro, target={extra}");
        var blkId = TestHost.Id(a.Domain(blk)!.Value);
        Xs(a, "xenstore-write", $"/local/domain/{blkId}/data/marker", "kept");
        Xs(a, "xenstore-chmod", $"/local/domain/{blkId}/data/marker", $"n{blkId}", "r0");

        // A checkpoint first: save -c resumes the original in place with its ring and disk (the suspend returns 1).
        var save = HostProcess.Run(RepoPaths.Program("disagg"), ["save", "-c", blk, Path.Combine(a.GuestDir, "mg-blk.dimg"), "--state-dir", a.Dir], MigrateBound);
        Assert.True(save.ExitCode == 0, save.ToString());
        var cancelled = WaitFor(a, blk, @"pvos: suspend cancelled \(returned 1\)");
        Assert.True(Eventually.Holds(() => Regex.IsMatch(a.ConsoleLog(blk)[cancelled.Index..], @"blk-verify: pass \d+: wrote and read \d+ sectors, 0 mismatches"), 90), a.ConsoleLog(blk));

        // The disk: the target's blkback may open it only after ours flushed and closed it (an exclusive flock).
        Migrate(a, blk, b);
        var blkLog = File.ReadAllText(Path.Combine(a.Dir, "blkback.log"));
        Assert.Matches(@"vbd \d+/\d+: .*mig\.img flushed \(fdatasync\) and closed", blkLog);
        var blkResumed = WaitFor(b, blk, @"pvos: resumed in a new domain");
        WaitFor(b, blk, @"blkfront: reconnected to .* \(domain \d+\): \d+ requests issued again");
        var newBlkId = TestHost.Id(b.Domain(blk)!.Value);
        Assert.Equal(["xvda", "xvdb"], b.Json("block-list", blk).EnumerateArray().Select(d => d.GetProperty("name").GetString()!).Order());
        Assert.True(Eventually.Holds(() => b.XsRead($"/local/domain/{newBlkId}/data/marker") == "kept", 30), "the guest's own node did not follow it");
        Assert.Equal($"n{newBlkId},r0", b.XsPerms($"/local/domain/{newBlkId}/data", "marker"));


        Assert.True(Eventually.Holds(() => Regex.Matches(b.ConsoleLog(blk)[blkResumed.Index..], @"blk-verify: pass \d+: wrote and read \d+ sectors, 0 mismatches").Count >= 1, 90), b.ConsoleLog(blk));
        Assert.True(Eventually.Holds(() => Reply().Matches(b.ConsoleLog(ping)[pingResumed.Index..]).Count >= 5, 90), b.ConsoleLog(ping));
        var done = WaitFor(b, blk, @"blk-verify: done: \d+ passes, (?<bad>\d+) mismatches, (?<err>\d+) errors", 180);
        Assert.Equal("0", done.Groups["bad"].Value);
        Assert.Equal("0", done.Groups["err"].Value);
        Assert.Contains("blk-verify: PASS", b.ConsoleLog(blk), StringComparison.Ordinal);
        Assert.DoesNotMatch(@"blk-verify: pass \d+: .*, [1-9]\d* mismatches", a.ConsoleLog(blk) + b.ConsoleLog(blk));
        var summary = WaitFor(b, ping, @"400 packets transmitted, (?<got>\d+) received", 180);
        Assert.True(int.Parse(summary.Groups["got"].Value, CultureInfo.InvariantCulture) >= 40, b.ConsoleLog(ping));

        foreach (var n in new[] { blk, ping, echo, peer })
        {
            b.MustRun("destroy", n);
        }
    }

    [Fact]
    public async Task AMigrationThatFailsAfterTheGuestSuspendedResumesItHereWithItsDisk()
    {
        var (a, b) = (hosts.A, hosts.B);
        var disk = Path.Combine(a.GuestDir, "stay.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(4L << 20);
        }

        var blk = Start(a, "mg-stay", "app=blk-verify sectors=1024 depth=4 req=16 seconds=40", extra: $"disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]");
        WaitFor(a, blk, @"blk-verify: pass 1:");

        // A --no-live migration suspends the guest before the first byte moves; the target's kernel is frozen
        // (SIGSTOP: it takes the socket but never reads the stream), then the target is killed: no commit came.
        using var frozen = new TestHost("none", $"listen = 127.0.0.1:0\nmigration_key_file = {hosts.KeyFile}");
        var endpoint = Endpoint(frozen);
        var status = frozen.Json("host", "status");
        var kernel = status.GetProperty("kernel_pid").GetInt32();
        var daemon = status.GetProperty("daemon_pid").GetInt32();
        Interop.ProcessSignals.Send(kernel, 19);
        var migrate = Task.Run(() => HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", blk, endpoint, "--no-live", "--key-file", hosts.KeyFile, "--state-dir", a.Dir], MigrateBound));
        Assert.True(Eventually.Holds(() => a.ConsoleLog(blk).Contains("pvos: suspending", StringComparison.Ordinal) || migrate.IsCompleted, 60), a.ConsoleLog(blk));
        await Task.Delay(1000);
        Interop.ProcessSignals.Send(kernel, 9);
        Interop.ProcessSignals.Send(daemon, 9);
        var r = await migrate;
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("it runs on here", r.StdErr, StringComparison.Ordinal);

        // Cancelled: the suspend returned 1, its ring and disk are still connected, and blk-verify goes on.
        var back = WaitFor(a, blk, @"pvos: suspend cancelled \(returned 1\)");
        Assert.DoesNotContain("p", a.Domain(blk)!.Value.GetProperty("state").GetString(), StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => Regex.Matches(a.ConsoleLog(blk)[back.Index..], @"blk-verify: pass \d+: wrote and read \d+ sectors, 0 mismatches").Count >= 1, 90), a.ConsoleLog(blk));
        var done = WaitFor(a, blk, @"blk-verify: done: \d+ passes, (?<bad>\d+) mismatches, (?<err>\d+) errors", 150);
        Assert.Equal("0", done.Groups["bad"].Value);
        Assert.Equal("0", done.Groups["err"].Value);
        a.MustRun("destroy", blk);
    }
}
