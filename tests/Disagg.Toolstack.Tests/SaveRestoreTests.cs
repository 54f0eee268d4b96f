using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>A host with xenstored, netback and blkback: what a saved PV guest's devices come back to.</summary>
public sealed class SaveHost : IDisposable
{
    public SaveHost() => Host = new TestHost("xenstored,netback,blkback");

    internal TestHost Host { get; }

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// `disagg save` / `disagg restore` end to end (docs/SAVE-RESTORE.md): the real daemon, kernel, xenstored and
/// backends, pvos guests that suspend through control/shutdown and reconnect after the restore.
/// </summary>
public sealed partial class SaveRestoreTests(SaveHost fixture) : IClassFixture<SaveHost>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    private TestHost Host => fixture.Host;

    [GeneratedRegex(@"mem-check: after resume \(new domain\): checksum (?<sum>0x[0-9a-f]+) \((?<same>\w+)\), (?<bad>\d+) mismatches")]
    private static partial Regex AfterNewDomain();

    [GeneratedRegex(@"mem-check: before suspend: checksum (?<sum>0x[0-9a-f]+), 0 mismatches")]
    private static partial Regex BeforeSuspend();

    private string Start(string name, string cmdline, string width = "rv64", string extra = "")
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
        Host.MustRun("create", cfg);
        return name;
    }

    private string Log(string name) => Host.ConsoleLog(name);

    private Match WaitFor(string name, Regex pattern, double seconds = 120)
    {
        Match? m = null;
        Assert.True(Eventually.Holds(() => (m = pattern.Match(Log(name))).Success, seconds), $"no '{pattern}' in the log of {name}:\n{Log(name)}");
        return m!;
    }

    private Match WaitFor(string name, string pattern, double seconds = 120) => WaitFor(name, new Regex(pattern), seconds);

    private ProcessResult Disagg(params string[] args) => HostProcess.Run(RepoPaths.Program("disagg"), [.. args, "--state-dir", Host.Dir], Long);

    private ProcessResult MustDisagg(params string[] args)
    {
        var r = Disagg(args);
        Assert.True(r.ExitCode == 0, $"disagg {string.Join(' ', args)}: {r}");
        return r;
    }

    private string Image(string name) => Path.Combine(Host.GuestDir, name + ".dimg");

    private string[] XsList(string path) =>
        HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Host.Dir, "xenstored.sock")}", "xenstore-list", path], TestHost.Bound).StdOut
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private void Xs(params string[] args)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={Path.Combine(Host.Dir, "xenstored.sock")}", .. args], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void AMemCheckGuestKeepsItsMemoryAndItsXenstoreNodesAcrossSaveAndRestore()
    {
        var name = Start("memsave", "app=mem-check mb=4 rate=512");
        WaitFor(name, @"mem-check: 1 s: \d+ pages rewritten, checksum 0x[0-9a-f]+, 0 mismatches");
        var oldId = TestHost.Id(Host.Domain(name)!.Value);

        // A node the guest owns, as a driver's data would be: it must come back under the new id, owned by it.
        Xs("xenstore-write", $"/local/domain/{oldId}/data/marker", "kept");
        Xs("xenstore-chmod", $"/local/domain/{oldId}/data/marker", $"n{oldId}", "r0");

        var image = Image(name);
        var save = MustDisagg("save", name, image);
        Assert.Matches(@"saved domain 'memsave' \(id \d+\) to .*memsave\.dimg: \d+\.\d MiB \(\d+\.\d MiB of memory\) in \d+\.\d{3} s, \d+\.\d{3} s of it suspending; it was destroyed", save.StdOut);
        Assert.Null(Host.Domain(name));
        Assert.DoesNotContain(oldId, XsList("/local/domain"));
        Assert.True(File.Exists(image) && !File.Exists(image + ".partial"));

        var restore = MustDisagg("restore", image);
        Assert.Matches(@"restored domain 'memsave' \(id \d+\) from .*: \d+\.\d MiB in \d+\.\d{3} s", restore.StdOut);
        var newId = TestHost.Id(Host.Domain(name)!.Value);
        Assert.NotEqual(oldId, newId);

        var before = WaitFor(name, BeforeSuspend());
        var after = WaitFor(name, AfterNewDomain());
        Assert.Equal(before.Groups["sum"].Value, after.Groups["sum"].Value);
        Assert.Equal("unchanged", after.Groups["same"].Value);
        Assert.Equal("0", after.Groups["bad"].Value);

        // It runs on in the new domain: more seconds of rewriting, still every word as it must be.
        var tail = Log(name)[after.Index..];
        Assert.True(Eventually.Holds(() => Regex.Matches(Log(name)[after.Index..], @"mem-check: \d+ s: \d+ pages rewritten, checksum 0x[0-9a-f]+, 0 mismatches").Count >= 2, 60), Log(name));
        Assert.DoesNotMatch(@"mem-check: \d+ s: .*, [1-9]\d* mismatches", Log(name));
        Assert.Contains($"pvos: xenbus: resumed as domain {newId}", Log(name), StringComparison.Ordinal);
        _ = tail;

        Assert.Equal("kept", Host.XsRead($"/local/domain/{newId}/data/marker"));
        Assert.Equal($"n{newId},r0", Host.XsPerms($"/local/domain/{newId}/data", "marker"));
        Assert.Equal(name, Host.XsRead($"/local/domain/{newId}/name"));
        Host.MustRun("destroy", name);
    }

    [Fact]
    public void SaveDashCKeepsTheOriginalRunningAndRestoreDashPLeavesTheCopyPaused()
    {
        var name = Start("ckpt", "app=mem-check mb=2 rate=256");
        WaitFor(name, @"mem-check: 1 s: ");
        var image = Image(name);
        MustDisagg("save", "-c", name, image);

        // The original: its suspend was cancelled (returns 1), memory unchanged, and it goes on running.
        var resumed = WaitFor(name, @"mem-check: after resume \(cancelled\): checksum 0x[0-9a-f]+ \(unchanged\), 0 mismatches");
        Assert.Contains("pvos: suspend cancelled (returned 1)", Log(name), StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => Regex.IsMatch(Log(name)[resumed.Index..], @"mem-check: \d+ s: .*, 0 mismatches"), 60), Log(name));
        Assert.DoesNotContain('p', Host.Domain(name)!.Value.GetProperty("state").GetString()!);

        // The copy: beside the original under another name, paused until unpaused.
        var restore = MustDisagg("restore", "-p", "--name", "ckpt-copy", image);
        Assert.EndsWith(", paused", restore.StdOut.Trim(), StringComparison.Ordinal);
        var copy = Host.Domain("ckpt-copy")!.Value;
        Assert.StartsWith("--p", copy.GetProperty("state").GetString()!, StringComparison.Ordinal);
        Thread.Sleep(500);
        Assert.DoesNotContain("resumed in a new domain", Log("ckpt-copy"), StringComparison.Ordinal);
        Host.MustRun("unpause", "ckpt-copy");
        var after = WaitFor("ckpt-copy", AfterNewDomain());
        Assert.Equal("unchanged", after.Groups["same"].Value);
        Assert.Equal("0", after.Groups["bad"].Value);

        Host.MustRun("destroy", "ckpt-copy");
        Host.MustRun("destroy", name);
    }

    [Fact]
    public void ARestoreBesideItsRunningOriginalIsRefusedTheWritableDiskTheOriginalStillWrites()
    {
        var disk = Path.Combine(Host.GuestDir, "both.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(2L << 20);
        }

        var name = Start("both", "app=blk-verify sectors=512 depth=4 req=16 seconds=60", extra: $"disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]");
        WaitFor(name, @"blk-verify: pass 1:");
        var image = Image(name);
        MustDisagg("save", "-c", name, image);

        // Two writers would corrupt the disk (and blkback would refuse the copy's, Locked, after it ran): refused
        // before anything is created, naming the disk and the domain that writes it.
        var domains = Ids();
        var refused = Disagg("restore", "--name", "both-copy", image);
        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains($"domain 'both-copy': disk xvda: {disk} is open for writing by domain 'both'", refused.StdErr, StringComparison.Ordinal);
        Assert.Null(Host.Domain("both-copy"));
        Assert.Subset(domains, Ids());

        // The original never noticed; once it is gone (its blkback flushes and closes the disk), the copy may have it.
        var resumed = WaitFor(name, @"pvos: suspend cancelled \(returned 1\)");
        Assert.True(Eventually.Holds(() => Regex.IsMatch(Log(name)[resumed.Index..], @"blk-verify: pass \d+: wrote and read \d+ sectors, 0 mismatches"), 60), Log(name));
        Host.MustRun("destroy", name);
        MustDisagg("restore", "-p", "--name", "both-copy", image);
        Assert.NotNull(Host.Domain("both-copy"));
        Host.MustRun("destroy", "both-copy");
    }

    [Fact]
    public void BlkVerifyAndPingCarryOnAcrossSaveAndRestore()
    {
        var disk = Path.Combine(Host.GuestDir, "sv.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(8L << 20);
        }

        var echo = Start("sv-echo", "app=udp-echo port=7", extra: "vif = [ 'mac=00:16:3e:00:0e:02, bridge=xenbr0, ip=10.9.0.2/24' ]");
        WaitFor(echo, @"udp-echo: listening");
        var ping = Start("sv-ping", "app=ping host=10.9.0.2 count=80 interval=250 ip=10.9.0.1", "rv32", "vif = [ 'mac=00:16:3e:00:0e:01, bridge=xenbr0' ]");
        var blk = Start("sv-blk", "app=blk-verify sectors=2048 depth=8 req=32 seconds=40", extra: $"disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]");
        WaitFor(ping, @"icmp_seq=3 time=");
        WaitFor(blk, @"blk-verify: pass 1:");

        MustDisagg("save", blk, Image(blk));
        MustDisagg("restore", Image(blk));
        MustDisagg("save", ping, Image(ping));
        MustDisagg("restore", Image(ping));

        var blkResumed = WaitFor(blk, @"pvos: resumed in a new domain");
        WaitFor(blk, @"blkfront: reconnected to .* \(domain \d+\): \d+ requests issued again");
        var pingResumed = WaitFor(ping, @"pvos: resumed in a new domain");
        WaitFor(ping, @"netfront: device/vif/0: connected to backend d\d+");

        // Both go on: passes and replies after the restore, none of them wrong.
        Assert.True(Eventually.Holds(() => Regex.Matches(Log(blk)[blkResumed.Index..], @"blk-verify: pass \d+: wrote and read \d+ sectors, 0 mismatches").Count >= 1, 90), Log(blk));
        Assert.True(Eventually.Holds(() => Regex.Matches(Log(ping)[pingResumed.Index..], @"icmp_seq=\d+ time=").Count >= 5, 90), Log(ping));
        var done = WaitFor(blk, @"blk-verify: done: \d+ passes, (?<bad>\d+) mismatches, (?<err>\d+) errors", 150);
        Assert.Equal("0", done.Groups["bad"].Value);
        Assert.Equal("0", done.Groups["err"].Value);
        Assert.Contains("blk-verify: PASS", Log(blk), StringComparison.Ordinal);
        var summary = WaitFor(ping, @"80 packets transmitted, (?<got>\d+) received", 150);
        Assert.True(int.Parse(summary.Groups["got"].Value, CultureInfo.InvariantCulture) >= 40, Log(ping));

        foreach (var n in new[] { blk, ping, echo })
        {
            Host.MustRun("destroy", n);
        }
    }

    private HashSet<string> Ids() => [.. Host.Json("list").EnumerateArray().Select(TestHost.Id)];

    /// <summary>The middle byte of the largest record's payload (frames: u32 length, u16 kind, u16 zero, u64 checksum, payload).</summary>
    private static int LargestPayloadMiddle(byte[] image)
    {
        var (best, at) = (0, 0);
        for (var o = 0; o + 16 <= image.Length;)
        {
            var length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(o));
            if (length > best)
            {
                (best, at) = (length, o + 16 + (length / 2));
            }

            o += 16 + length;
        }

        return at;
    }

    [Fact]
    public void GarbageTruncatedForeignAndCorruptImagesAreRefusedNamingTheRecordAndCreateNothing()
    {
        var name = Start("refuse", "app=mem-check mb=1 rate=64");
        WaitFor(name, @"mem-check: 1 s: ");
        var good = Image(name);
        MustDisagg("save", "-c", name, good);
        var bytes = File.ReadAllBytes(good);

        var garbage = Path.Combine(Host.GuestDir, "garbage.dimg");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 37))]);
        var foreign = Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf");
        var truncated = Path.Combine(Host.GuestDir, "truncated.dimg");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var corrupt = Path.Combine(Host.GuestDir, "corrupt.dimg");
        var flipped = (byte[])bytes.Clone();
        flipped[LargestPayloadMiddle(bytes)] ^= 0x10; // one bit inside a record's body, not its frame
        File.WriteAllBytes(corrupt, flipped);

        // Nothing new may appear; other tests' guests may come and go meanwhile.
        var domains = Ids();
        var nodes = XsList("/local/domain").ToHashSet();
        foreach (var (file, expect) in new[]
        {
            (garbage, @"record 0: ForeignImage"),
            (foreign, @"record 0: ForeignImage"),
            (truncated, @"record \d+ \(\w+\): Truncated"),
            (corrupt, @"record \d+ \(\w+\): ChecksumMismatch"),
        })
        {
            var r = Disagg("restore", "--name", "never", file);
            Assert.True(r.ExitCode == 1, $"restore {file}: {r}");
            Assert.Matches("disagg restore: .*domain image refused at " + expect, r.StdErr);
            Assert.Subset(domains, Ids());
            Assert.Null(Host.Domain("never"));
            Assert.Subset(nodes, XsList("/local/domain").ToHashSet());
        }

        Assert.Equal(1, Disagg("restore", Path.Combine(Host.GuestDir, "missing.dimg")).ExitCode);
        Assert.Equal(2, Disagg("save", "-c", "-p", name, good).ExitCode);
        Assert.Equal(2, Disagg("save", name).ExitCode);
        Host.MustRun("destroy", name);
    }
}
