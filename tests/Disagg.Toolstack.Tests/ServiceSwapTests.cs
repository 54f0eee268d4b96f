using Disagg.DiskImage;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>`disagg service swap`: a new binary for a running service under the same domain id and state dir.</summary>
public sealed class ServiceSwapTests
{
    /// <summary>A swap waits for the new binary's ready line: a .NET start, slow on a loaded machine.</summary>
    private static ProcessResult Swap(TestHost host, string binary) =>
        HostProcess.Run(RepoPaths.Program("disagg"), ["service", "swap", "blkback", "--binary", binary, "--timeout", "100", "--state-dir", host.Dir], TimeSpan.FromSeconds(120));

    [Fact]
    public void SwapReplacesBlkbackUnderTheSameDomainKeepsItsDevicesAndIsNotARestart()
    {
        using var host = new TestHost("xenstored,blkback");
        host.MustRun("create", TestGuest.WriteConfig(host.GuestDir, "swapper", "swapper\n", TestGuest.End.Spin));
        var image = Path.Combine(host.GuestDir, "swap.img");
        DiskImages.CreateRaw(image, 8 << 20);
        host.MustRun("block-attach", "swapper", $"format=raw, vdev=xvdb, target={image}");
        var before = host.Service("blkback");
        var oldPid = TestHost.Int(before, "pid");

        // The "new build": the same program reached by another path (an apphost finds its dll through /proc/self/exe).
        var next = Path.Combine(host.Dir, "blkback-next");
        File.CreateSymbolicLink(next, RepoPaths.Program("disagg-blkback"));
        var swapped = Swap(host, next);
        Assert.True(swapped.ExitCode == 0, swapped.ToString());
        Assert.Contains($"service 'blkback' (domain 3): pid {oldPid}", swapped.StdOut, StringComparison.Ordinal);
        Assert.Contains($"({next}), serving after", swapped.StdOut, StringComparison.Ordinal);

        var after = host.Service("blkback");
        Assert.Equal(3, TestHost.Int(after, "domain_id"));
        Assert.Equal("running", after.GetProperty("state").GetString());
        Assert.Equal(1, TestHost.Int(after, "swaps"));
        Assert.Equal(0, TestHost.Int(after, "restarts"));
        Assert.Equal(next, after.GetProperty("program").GetString());
        var newPid = TestHost.Int(after, "pid");
        Assert.NotEqual(oldPid, newPid);
        Assert.False(TestHost.Alive(oldPid));
        Assert.Equal(next, File.ReadAllText($"/proc/{newPid}/cmdline").Split('\0')[0]);
        Assert.Contains($"--state-dir\0{Path.Combine(host.Dir, "blkback")}", File.ReadAllText($"/proc/{newPid}/cmdline"), StringComparison.Ordinal);
        // The new process took the disk up again from xenstore.
        var id = TestHost.Id(host.Domain("swapper")!.Value);
        Assert.True(Eventually.Holds(() => host.XsRead($"/local/domain/3/backend/vbd/{id}/51728/state") == "2"));
        Assert.Contains("service blkback swapped", File.ReadAllText(Path.Combine(host.Dir, "disagg.log")), StringComparison.Ordinal);

        // A binary that dies before it is ready: the swap fails and the previous binary serves again.
        var broken = Path.Combine(host.Dir, "broken.sh");
        File.WriteAllText(broken, "#!/bin/sh\necho 'no such luck' >&2\nexit 3\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var failed = Swap(host, broken);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains($"service 'blkback': swap failed: {broken}: it exited with code 3 before it was ready: no such luck; {next} was started again", failed.StdErr, StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => host.Service("blkback").GetProperty("state").GetString() == "running"));
        var restored = host.Service("blkback");
        Assert.Equal(next, restored.GetProperty("program").GetString());
        Assert.Equal(1, TestHost.Int(restored, "swaps"));
        Assert.Equal(0, TestHost.Int(restored, "restarts"));

        var absent = host.Run("service", "swap", "blkback", "--binary", Path.Combine(host.Dir, "absent"));
        Assert.Equal(1, absent.ExitCode);
        Assert.Contains($"service 'blkback': cannot swap to {Path.Combine(host.Dir, "absent")}: no such file", absent.StdErr, StringComparison.Ordinal);
        var unknown = host.Run("service", "swap", "nosuch", "--binary", next);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no service 'nosuch'", unknown.StdErr, StringComparison.Ordinal);
        Assert.Contains("Usage:", host.MustRun("service", "swap", "--help").StdOut, StringComparison.Ordinal);
    }
}
