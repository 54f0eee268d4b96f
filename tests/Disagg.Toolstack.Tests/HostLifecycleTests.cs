using Disagg.TestSupport;
namespace Disagg.Toolstack.Tests;

/// <summary>Hosts of their own: up and down, a killed kernel.</summary>
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
    public void KernelDeathIsReportedPlainlyAndTheHostStillComesDown()
    {
        using var host = new TestHost();
        host.MustRun("create", TestGuest.WriteConfig(host.GuestDir, "doomed", "doomed\n", TestGuest.End.Spin));
        var status = host.Json("host", "status");
        var kernel = TestHost.Int(status, "kernel_pid");
        var survivors = new[] { TestHost.Int(status, "daemon_pid"), TestHost.Int(status.GetProperty("services")[0], "pid") };
        using (var k = System.Diagnostics.Process.GetProcessById(kernel))
        {
            k.Kill();
        }

        Assert.True(Eventually.Holds(() => host.Run("host", "status").StdOut.Contains("every guest died with it", StringComparison.Ordinal)));
        Assert.Equal(1, host.Run("host", "status").ExitCode);
        var list = host.Run("list");
        Assert.Equal(1, list.ExitCode);
        Assert.Contains("died", list.StdErr, StringComparison.Ordinal);
        Assert.Contains("every guest died with it", list.StdErr, StringComparison.Ordinal);
        host.MustRun("host", "down");
        Assert.Empty(Directory.GetFiles(host.Dir, "*.sock"));
        Assert.All(survivors, p => Assert.False(TestHost.Alive(p), $"pid {p} survived host down"));
    }
}
