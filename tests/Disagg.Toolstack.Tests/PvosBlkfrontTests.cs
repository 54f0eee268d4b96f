using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// pvos's blkfront end to end on a real host with xenstored, against blkback-test: a second pvos that is
/// made the disk's backend (the frontend's backend-id and both directories' permissions rewritten, as a
/// toolstack would for a driver domain) and serves a RAM disk by grant copy. blk-verify writes a
/// checksummed pattern and reads it back while the backend behaves, drops a batch and restarts, lies about
/// rsp_prod, or answers under ids never used: every run must end with zero mismatches and no I/O error.
/// </summary>
public sealed partial class PvosBlkfrontTests(XenstoredHost fixture) : IClassFixture<XenstoredHost>
{
    private TestHost Host => fixture.Host;

    private void Xs(params string[] args)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", .. args], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private string Config(string name, string width, string cmdline, string extra = "")
    {
        var cfg = Path.Combine(Host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = 16
            cmdline = "{cmdline}"
            on_poweroff = "preserve"
            {extra}
            """);
        return cfg;
    }

    /// <summary>Creates the frontend (paused) and blkback-test as its backend; returns both names.</summary>
    private (string Front, string Back) Start(string tag, string width, string frontCmdline, string backArgs)
    {
        var image = Path.Combine(Host.GuestDir, tag + ".img");
        using (var f = File.Create(image))
        {
            f.SetLength(4 << 20);
        }

        var front = "fe-" + tag;
        var back = "be-" + tag;
        Host.MustRun("create", "-p", Config(front, width, frontCmdline, $"disk = [ 'format=raw, vdev=xvda, access=rw, target={image}' ]"));
        var fe = TestHost.Id(Host.Domain(front)!.Value);
        Host.MustRun("create", "-p", Config(back, width, $"app=blkback-test fe={fe} {backArgs}"));
        var be = TestHost.Id(Host.Domain(back)!.Value);
        var feDir = $"/local/domain/{fe}/device/vbd/51712";
        Xs("xenstore-write", $"{feDir}/backend-id", be);
        Xs("xenstore-chmod", "-r", feDir, $"n{fe}", $"r{be}");
        Xs("xenstore-chmod", "-r", $"/local/domain/0/backend/vbd/{fe}/51712", $"n{be}", $"r{fe}");
        Host.MustRun("unpause", back);
        Host.MustRun("unpause", front);
        return (front, back);
    }

    private string WaitForEnd(string front)
    {
        Assert.True(
            Eventually.Holds(() => Host.ConsoleLog(front).Contains("pvos: shutting down", StringComparison.Ordinal), 120),
            "the frontend did not finish:\n" + Host.ConsoleLog(front));
        return Host.ConsoleLog(front);
    }

    private void Destroy(string front, string back)
    {
        Host.MustRun("destroy", front);
        Host.MustRun("destroy", back);
    }

    private static long Count(string log, string pattern) => long.Parse(Regex.Match(log, pattern).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void BlkVerifyRoundTripsAPatternThroughIndirectRequestsWithZeroMismatches(string width)
    {
        var (front, back) = Start("ok-" + width, width, "app=blk-verify sectors=4096 depth=8 req=128", "sectors=8192 mode=normal");
        var log = WaitForEnd(front);
        Assert.Contains("8192 sectors of 512 bytes (4 MiB), info 0x0, flush 1, barrier 0, indirect 32 segments, protocol x86_64-abi", log, StringComparison.Ordinal);
        Assert.Contains("blk-verify: sectors 0..4095, 8 requests of 128 sectors in flight", log, StringComparison.Ordinal);
        Assert.Contains("blk-verify: done: 1 passes, 0 mismatches, 0 errors, 0 reconnects, 0 re-issued, 0 leaked grants", log, StringComparison.Ordinal);
        Assert.Contains("blk-verify: PASS", log, StringComparison.Ordinal);
        Assert.Contains("pvos: shutting down: poweroff", log, StringComparison.Ordinal);
        Destroy(front, back);
    }

    [Theory]
    [InlineData("rv64", "restart", "blkback-test: restarting (mode restart")]
    [InlineData("rv32", "restart", "blkback-test: restarting (mode restart")]
    [InlineData("rv64", "lie", "blkfront: backend's rsp_prod")]
    [InlineData("rv32", "bad-id", "blkfront: bad response from the backend: id 77 op 1 status 0: no request with that id is in flight; ignored")]
    public void ABackendThatLosesRequestsOrMisbehavesCostsNoDataAndDoesNotCrashTheGuest(string width, string mode, string evidence)
    {
        var (front, back) = Start($"{mode}-{width}", width, "app=blk-verify sectors=2048 depth=8 req=16", $"mode={mode} after=40");
        var log = WaitForEnd(front);
        var both = log + Host.ConsoleLog(back);
        Assert.Contains(evidence, both, StringComparison.Ordinal);
        Assert.Contains("blkfront: backend /local/domain/0/backend/vbd/", log, StringComparison.Ordinal);
        Assert.Matches(@"blkfront: reconnected to \S+ \(domain \d+\): [1-9]\d* requests issued again", log);
        Assert.True(Count(log, @"done: 1 passes, 0 mismatches, 0 errors, (\d+) reconnects") >= 1, log);
        Assert.Contains("blk-verify: PASS", log, StringComparison.Ordinal);
        Assert.Contains("pvos: shutting down: poweroff", log, StringComparison.Ordinal);
        Destroy(front, back);
    }
}
