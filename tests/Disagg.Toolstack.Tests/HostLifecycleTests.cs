using System.Text.Json;

namespace Disagg.Toolstack.Tests;

/// <summary>Hosts of their own: up, down, a killed service, a killed kernel.</summary>
public sealed class HostLifecycleTests
{
    [Fact]
    public void HostDownStopsGuestsServicesAndKernelAndLeavesNoProcessOrSocket()
    {
        using var host = new TestHost();
        var status = host.Json("host", "status");
        var pids = new List<int> { TestHost.Int(status, "daemon_pid"), TestHost.Int(status, "kernel_pid") };
        pids.AddRange(status.GetProperty("services").EnumerateArray().Select(s => TestHost.Int(s, "pid")));
        Assert.Equal(3, pids.Count);
        Assert.All(pids, p => Assert.True(TestHost.Alive(p)));
        host.MustRun("create", TestGuest.WriteConfig(host.GuestDir, "leftover", "still here\n", TestGuest.End.Spin));

        var again = host.Run("host", "up");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("a host is already up in " + host.Dir, again.StdErr, StringComparison.Ordinal);

        host.MustRun("host", "down");
        Assert.All(pids, p => Assert.False(TestHost.Alive(p), $"pid {p} survived host down"));
        Assert.Empty(Directory.GetFiles(host.Dir, "*.sock"));
        Assert.False(File.Exists(Path.Combine(host.Dir, "disagg.pid")));
        var log = File.ReadAllText(Path.Combine(host.Dir, "disagg.log"));
        Assert.Contains("'leftover' poweroff: destroy", log, StringComparison.Ordinal);
        var after = host.Run("list");
        Assert.Equal(1, after.ExitCode);
        Assert.Contains("no host is up in " + host.Dir, after.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void KilledServiceIsRestartedAndServiceListShowsIt()
    {
        using var host = new TestHost();
        var before = host.Json("service", "list").EnumerateArray().Single();
        Assert.Equal("probe", before.GetProperty("name").GetString());
        Assert.Equal("running", before.GetProperty("state").GetString());
        Assert.True(before.GetProperty("rss_bytes").GetInt64() > 0);
        var oldPid = TestHost.Int(before, "pid");
        host.MustRun("service", "kill", "probe");
        JsonElement after = default;
        Assert.True(TestHost.Eventually(() =>
        {
            after = host.Json("service", "list").EnumerateArray().Single();
            return after.GetProperty("state").GetString() == "running" && after.TryGetProperty("pid", out var p) && p.GetInt32() != oldPid;
        }));
        Assert.Equal(1, TestHost.Int(after, "restarts"));
        Assert.Equal("killed by signal 9 (SIGKILL)", after.GetProperty("last_exit").GetString());
        Assert.False(TestHost.Alive(oldPid));
        Assert.Contains("service probe restarted: died at", File.ReadAllText(Path.Combine(host.Dir, "disagg.log")), StringComparison.Ordinal);

        host.MustRun("service", "restart", "probe");
        Assert.True(TestHost.Eventually(() => TestHost.Int(host.Json("service", "list")[0], "restarts") == 2));
        var unknown = host.Run("service", "kill", "nosuch");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no service 'nosuch'", unknown.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelDeathIsReportedPlainlyAndTheHostStillComesDown()
    {
        using var host = new TestHost();
        host.MustRun("create", TestGuest.WriteConfig(host.GuestDir, "doomed", "doomed\n", TestGuest.End.Spin));
        var kernel = TestHost.Int(host.Json("host", "status"), "kernel_pid");
        using (var k = System.Diagnostics.Process.GetProcessById(kernel))
        {
            k.Kill();
        }

        Assert.True(TestHost.Eventually(() => host.Run("host", "status").StdOut.Contains("every guest died with it", StringComparison.Ordinal)));
        Assert.Equal(1, host.Run("host", "status").ExitCode);
        var list = host.Run("list");
        Assert.Equal(1, list.ExitCode);
        Assert.Contains("died", list.StdErr, StringComparison.Ordinal);
        Assert.Contains("every guest died with it", list.StdErr, StringComparison.Ordinal);
        host.MustRun("host", "down");
        Assert.Empty(Directory.GetFiles(host.Dir, "*.sock"));
    }
}
