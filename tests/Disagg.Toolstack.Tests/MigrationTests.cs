using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Three real hosts on this machine, each in its own state dir: "a" (rv64), "b" (rv64) and "c" (rv32), all
/// listening for migrations on a port of their own with one shared key file.
/// </summary>
public sealed partial class MigrationHosts : IDisposable
{
    public MigrationHosts()
    {
        KeyDir = Directory.CreateTempSubdirectory("dtk-").FullName;
        KeyFile = Path.Combine(KeyDir, "migration.key");
        File.WriteAllText(KeyFile, "a-test-key-of-32-bytes-0123456789\n");
        A = Start("rv64");
        B = Start("rv64");
        C = Start("rv32");
    }

    public string KeyDir { get; }

    public string KeyFile { get; }

    public TestHost A { get; }

    public TestHost B { get; }

    public TestHost C { get; }

    /// <summary>host:port of a host's migration listener, as its daemon logged it (it listens on port 0).</summary>
    public static string Endpoint(TestHost host)
    {
        string? found = null;
        Assert.True(Eventually.Holds(() => (found = ListeningOn().Match(File.ReadAllText(Path.Combine(host.Dir, "disagg.log"))) is { Success: true } m ? m.Groups[1].Value : null) is not null), "no listening line in the daemon log");
        return found!;
    }

    /// <summary>
    /// A pvos mem-touch guest (dirtying <paramref name="rate"/> pages/s over 8 MiB) created on <paramref name="host"/>.
    /// <paramref name="configGone"/>: its config file is in a directory removed after the create, so no other host
    /// can read it (a config that exists only on the source host).
    /// </summary>
    public static void CreateMemTouch(TestHost host, string name, string width, int rate = 4096, bool configGone = false)
    {
        var dir = configGone ? Directory.CreateTempSubdirectory("dtk-cfg-").FullName : host.GuestDir;
        var cfg = Path.Combine(dir, name + ".cfg");
        File.WriteAllText(cfg, $"name = \"{name}\"\nkernel = \"{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}\"\nmemory = 32\ncmdline = \"app=mem-touch mb=8 rate={rate}\"\non_poweroff = \"destroy\"\n");
        host.MustRun("create", cfg);
        if (configGone)
        {
            Directory.Delete(dir, recursive: true);
        }

        Assert.True(Eventually.Holds(() => LastSecond(host, name) >= 1, 60), host.ConsoleLog(name));
    }

    /// <summary>The last "mem-touch: N s:" second a guest's console log shows on a host, or -1.</summary>
    public static int LastSecond(TestHost host, string name)
    {
        var last = -1;
        foreach (Match m in Report().Matches(host.ConsoleLog(name)))
        {
            last = Math.Max(last, int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        return last;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        C.Dispose();
        Directory.Delete(KeyDir, recursive: true);
    }

    private TestHost Start(string arch) => new("none", $"arch = {arch}\nlisten = 127.0.0.1:0\nmigration_key_file = {KeyFile}");

    [GeneratedRegex(@"migration: listening on (127\.0\.0\.1:[0-9]+)")]
    private static partial Regex ListeningOn();

    [GeneratedRegex(@"mem-touch: ([0-9]+) s:")]
    private static partial Regex Report();
}

/// <summary>
/// `disagg migrate` between real hosts (issue 14): live pre-copy under a dirtying load, the 32/64-bit rule both
/// ways, refusals (key, width) before any memory moves, and a target killed mid-stream.
/// </summary>
public sealed class MigrationTests(MigrationHosts hosts) : IClassFixture<MigrationHosts>
{
    private static readonly TimeSpan MigrateBound = TimeSpan.FromSeconds(180);

    [Fact]
    public void ALiveMigrationUnderADirtyingLoadConvergesAndTheGuestRunsOnAtTheTarget()
    {
        // Its config file is gone before the migration: the target takes the config the offer carries.
        MigrationHosts.CreateMemTouch(hosts.A, "touch64", "rv64", configGone: true);
        var before = MigrationHosts.LastSecond(hosts.A, "touch64");

        // --verify: the target's kernel digests the guest's memory and the source compares it with its own
        // (paused) memory before the target may run it: a page the dirty log missed fails the migration.
        var r = Migrate(hosts.A, "touch64", hosts.B, "--live", "--verify", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var reply = JsonDocument.Parse(r.StdOut).RootElement;
        Assert.True(reply.GetProperty("rounds").GetInt32() >= 2, r.StdOut);
        Assert.True(reply.GetProperty("pages").GetInt64() >= 2048, r.StdOut); // at least the 8 MiB it touches
        Assert.True(reply.GetProperty("downtime_us").GetInt64() > 0, r.StdOut);

        // The stop-and-copy step by step, both kernels' stamps on this machine's one clock: the downtime ends at the
        // target's unpause, and every step from the source's pause to its read of Resumed is there.
        Assert.True(reply.GetProperty("target_clock").GetBoolean(), r.StdOut);
        var steps = reply.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("step").GetString()!, s => s.GetProperty("at_us").GetInt64());
        Assert.Equal(["paused", "off_cpu", "last_dirty_read", "stop_round_sent", "built_read", "commit_sent", "resumed_read", "stop_round_arrived", "pages_applied", "state_read", "domain_built", "vcpus_loaded", "built_sent", "commit_read", "resumed"], steps.Keys);
        Assert.Equal(0, steps["paused"]);
        Assert.Equal(reply.GetProperty("downtime_us").GetInt64(), steps["resumed"]);
        // In the order causality dictates: each host's steps in its own order, each read after the other's write.
        string[][] chains =
        [
            ["paused", "off_cpu", "last_dirty_read", "stop_round_sent", "built_read", "commit_sent", "resumed_read"],
            ["paused", "pages_applied", "state_read", "domain_built", "vcpus_loaded", "built_sent", "commit_read", "resumed"],
            ["vcpus_loaded", "built_read", "commit_read", "resumed", "resumed_read"],
        ];
        foreach (var chain in chains)
        {
            Assert.True(chain.Zip(chain.Skip(1)).All(p => steps[p.First] <= steps[p.Second]), $"{string.Join(" <= ", chain)}: {r.StdOut}");
        }

        Assert.Null(hosts.A.Domain("touch64"));
        Assert.NotNull(hosts.B.Domain("touch64"));
        Assert.True(Eventually.Holds(() => MigrationHosts.LastSecond(hosts.B, "touch64") > before + 1, 60), hosts.B.ConsoleLog("touch64"));
        hosts.B.MustRun("destroy", "touch64");
    }

    [Fact]
    public void AnRv32GuestMovesToAnRv32HostAndBackToAnRv64Host()
    {
        // No host can read its config file: each hop carries the config the guest arrived with.
        MigrationHosts.CreateMemTouch(hosts.A, "touch32", "rv32", configGone: true);
        var there = Migrate(hosts.A, "touch32", hosts.C, "--verify");
        Assert.True(there.ExitCode == 0, there.ToString());
        Assert.Contains("migrated touch32", there.StdOut, StringComparison.Ordinal);
        var onC = MigrationHosts.LastSecond(hosts.C, "touch32");
        Assert.True(Eventually.Holds(() => MigrationHosts.LastSecond(hosts.C, "touch32") > onC, 60), hosts.C.ConsoleLog("touch32"));

        var back = Migrate(hosts.C, "touch32", hosts.A, "--verify");
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Null(hosts.C.Domain("touch32"));
        var onA = MigrationHosts.LastSecond(hosts.A, "touch32");
        Assert.True(Eventually.Holds(() => MigrationHosts.LastSecond(hosts.A, "touch32") > onA, 60), hosts.A.ConsoleLog("touch32"));
        hosts.A.MustRun("destroy", "touch32");
    }

    [Fact]
    public void AnRv32HostRefusesAnRv64GuestOnCreateAndMigrationBeforeAnyMemoryMoves()
    {
        var cfg = Path.Combine(hosts.C.GuestDir, "wide.cfg");
        File.WriteAllText(cfg, $"name = \"wide\"\nkernel = \"{Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf")}\"\nmemory = 8\n");
        var create = hosts.C.Run("create", cfg);
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("an rv64 guest cannot run on this rv32 host", create.StdErr, StringComparison.Ordinal);
        Assert.Single(create.StdErr.Trim().Split('\n'));
        Assert.Null(hosts.C.Domain("wide"));

        MigrationHosts.CreateMemTouch(hosts.A, "wide64", "rv64");
        var r = Migrate(hosts.A, "wide64", hosts.C);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("'wide64' is an rv64 guest and this host is rv32", r.StdErr, StringComparison.Ordinal);
        Assert.Single(r.StdErr.Trim().Split('\n'));
        Assert.Null(hosts.C.Domain("wide64"));
        StillRunsOn(hosts.A, "wide64");
        hosts.A.MustRun("destroy", "wide64");
    }

    [Fact]
    public void AWrongKeyIsRefusedAndTheGuestStays()
    {
        MigrationHosts.CreateMemTouch(hosts.A, "keyed", "rv64");
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", "keyed", MigrationHosts.Endpoint(hosts.B), "--token", "not-the-key-but-long-enough", "--state-dir", hosts.A.Dir], MigrateBound);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("refused: wrong migration key", r.StdErr, StringComparison.Ordinal);
        Assert.Null(hosts.B.Domain("keyed"));
        Assert.Contains("wrong migration key", File.ReadAllText(Path.Combine(hosts.B.Dir, "disagg.log")), StringComparison.Ordinal);
        StillRunsOn(hosts.A, "keyed");
        hosts.A.MustRun("destroy", "keyed");
    }

    [Fact]
    public async Task ATargetKilledMidStreamLeavesTheGuestRunningOnTheSource()
    {
        // A target of its own, frozen (SIGSTOP) so the stream stalls in the sockets, then killed outright.
        using var target = new TestHost("none", $"listen = 127.0.0.1:0\nmigration_key_file = {hosts.KeyFile}");
        var endpoint = MigrationHosts.Endpoint(target);
        var status = target.Json("host", "status");
        var kernel = status.GetProperty("kernel_pid").GetInt32();
        var daemon = status.GetProperty("daemon_pid").GetInt32();
        MigrationHosts.CreateMemTouch(hosts.A, "orphan", "rv64");
        Interop.ProcessSignals.Send(kernel, 19); // SIGSTOP: it takes the socket but never reads the stream

        var migrate = Task.Run(() => HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", "orphan", endpoint, "--key-file", hosts.KeyFile, "--state-dir", hosts.A.Dir], MigrateBound));
        Assert.True(Eventually.Holds(() => File.ReadAllText(Path.Combine(hosts.A.Dir, "disagg.log")).Contains("orphan", StringComparison.Ordinal) || migrate.IsCompleted, 30));
        await Task.Delay(2000); // the handshake is done by now and the kernels hold the stream
        Interop.ProcessSignals.Send(kernel, 9);
        Interop.ProcessSignals.Send(daemon, 9);
        var r = await migrate;
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("it runs on here", r.StdErr, StringComparison.Ordinal);
        StillRunsOn(hosts.A, "orphan");
        hosts.A.MustRun("destroy", "orphan");
    }

    private ProcessResult Migrate(TestHost from, string name, TestHost to, params string[] extra) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", name, MigrationHosts.Endpoint(to), "--key-file", hosts.KeyFile, .. extra, "--state-dir", from.Dir], MigrateBound);

    /// <summary>The guest is there, not paused, and its mem-touch seconds go on.</summary>
    private static void StillRunsOn(TestHost host, string name)
    {
        var row = host.Domain(name);
        Assert.NotNull(row);
        Assert.DoesNotContain("p", row.Value.GetProperty("state").GetString(), StringComparison.Ordinal);
        var now = MigrationHosts.LastSecond(host, name);
        Assert.True(Eventually.Holds(() => MigrationHosts.LastSecond(host, name) > now + 1, 60), host.ConsoleLog(name));
    }
}
