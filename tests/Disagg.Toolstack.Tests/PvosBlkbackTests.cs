using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>A host with xenstored and the real disagg-blkback as its built-in service domain 3, which the toolstack puts every vbd under.</summary>
public sealed class BlkbackHost : IDisposable
{
    public BlkbackHost() => Host = new TestHost("xenstored,blkback");

    internal TestHost Host { get; }

    public string Socket => Path.Combine(Host.Dir, "xenstored.sock");

    public void Dispose() => Host.Dispose();
}

/// <summary>pvos's blkfront against the real blkback service over a raw image file, the vbd placed by the toolstack.</summary>
public sealed class PvosBlkbackTests(BlkbackHost fixture) : IClassFixture<BlkbackHost>
{
    private const int ImageSectors = 16384; // 8 MiB

    private TestHost Host => fixture.Host;

    private JsonElement Blkback() =>
        Host.Json("service", "list").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "blkback");

    /// <summary>Creates a pvos guest with the image as xvda, served by blkback; returns its name.</summary>
    private string Start(string name, string width, string image, string cmdline)
    {
        var cfg = Path.Combine(Host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = 16
            cmdline = "{cmdline}"
            on_poweroff = "preserve"
            disk = [ 'format=raw, vdev=xvda, access=rw, target={image}' ]
            """);
        Host.MustRun("create", cfg);
        return name;
    }

    /// <summary>Destroys the guest; the toolstack removes the vbd's directories, so blkback lets go of the image.</summary>
    private void Stop(string name)
    {
        var fe = TestHost.Id(Host.Domain(name)!.Value);
        var be = TestHost.Int(Blkback(), "domain_id").ToString(System.Globalization.CultureInfo.InvariantCulture);
        Host.MustRun("destroy", name);
        Assert.True(
            Eventually.Holds(() => HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-exists", $"/local/domain/{be}/backend/vbd/{fe}"], TestHost.Bound).ExitCode != 0),
            "the toolstack removes the vbd's backend directory");
    }

    private string WaitForEnd(string name, double seconds = 120)
    {
        Assert.True(
            Eventually.Holds(() => Host.ConsoleLog(name).Contains("pvos: shutting down", StringComparison.Ordinal), seconds),
            "the guest did not finish:\n" + Host.ConsoleLog(name));
        return Host.ConsoleLog(name);
    }

    private string NewImage(string name)
    {
        var path = Path.Combine(Host.GuestDir, name + ".img");
        using var f = File.Create(path);
        f.SetLength((long)ImageSectors * 512);
        return path;
    }

    /// <summary>blk_verify.c's sector pattern: header (magic, sector, pass, seed), xorshift bytes, checksum.</summary>
    private static void Fill(Span<byte> p, ulong sector, uint pass)
    {
        var seed = unchecked((uint)(sector * 2654435761u) ^ (pass * 40503u) ^ 0x9E3779B9u);
        Encoding.ASCII.GetBytes("PVOSBLK\0", p);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], sector);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], pass);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], seed);
        var x = seed | 1;
        for (var i = 24; i < 508; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            p[i] = (byte)x;
        }

        uint sum = 0;
        for (var i = 0; i < 508; i++)
        {
            sum = unchecked((sum * 31) + p[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(p[508..], sum);
    }

    private static bool TryRead(string path, out byte[] bytes)
    {
        try
        {
            bytes = File.ReadAllBytes(path);
            return true;
        }
        catch (IOException)
        {
            bytes = [];
            return false;
        }
    }

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void APatternTheGuestWritesLandsInTheImageAndOneTheHostWroteReadsBackInTheGuest(string width)
    {
        var image = NewImage("rt-" + width);
        // The host writes pass 7 over sectors 8192..10239 and a guest checks it; another guest writes pass 1
        // over 0..4095 of a fresh image and the host finds it there.
        var sector = new byte[512];
        using (var f = File.OpenWrite(image))
        {
            for (var s = 8192UL; s < 10240; s++)
            {
                Fill(sector, s, 7);
                f.Position = (long)s * 512;
                f.Write(sector);
            }
        }

        var reader = Start("rd-" + width, width, image, "app=blk-verify start=8192 sectors=2048 check-pass=7");
        var log = WaitForEnd(reader);
        Assert.True(log.Contains("blk-verify: checked 2048 sectors for pass 7: 0 mismatches, 0 errors", StringComparison.Ordinal), log);
        Assert.Contains("blk-verify: PASS", log, StringComparison.Ordinal);
        Assert.Contains("16384 sectors of 512 bytes (8 MiB)", log, StringComparison.Ordinal);
        Stop(reader);

        image = NewImage("wr-" + width);
        var writer = Start("wr-" + width, width, image, "app=blk-verify sectors=4096 depth=8 req=128");
        log = WaitForEnd(writer);
        Assert.True(log.Contains("blk-verify: done: 1 passes, 0 mismatches, 0 errors", StringComparison.Ordinal), log);
        Stop(writer);
        // blkback holds its exclusive lock (flock) until it has seen the device go.
        byte[] bytes = [];
        Assert.True(Eventually.Holds(() => TryRead(image, out bytes), 30), "blkback kept the image locked");

        for (var s = 0UL; s < 4096; s++)
        {
            Fill(sector, s, 1);
            Assert.True(bytes.AsSpan((int)s * 512, 512).SequenceEqual(sector), $"sector {s} of the image is not the guest's pass 1");
        }

        Assert.All(bytes.AsSpan(4096 * 512, 4096 * 512).ToArray(), b => Assert.Equal(0, b)); // nothing written past the range
    }

    [Fact]
    public void BlkVerifyLosesNothingWhenBlkbackIsSigkilledMidRun()
    {
        var image = NewImage("kill");
        var restartsBefore = TestHost.Int(Blkback(), "restarts");
        var name = Start("kill", "rv64", image, "app=blk-verify sectors=4096 depth=8 req=64 seconds=40");
        Assert.True(Eventually.Holds(() => Host.ConsoleLog(name).Contains("blk-verify: pass 1:", StringComparison.Ordinal), 60), Host.ConsoleLog(name));
        var pid = TestHost.Int(Blkback(), "pid");
        Host.MustRun("service", "kill", "blkback");
        var passesAtKill = Host.ConsoleLog(name).Split("blk-verify: pass ").Length - 1;
        Assert.True(Eventually.Holds(() => !TestHost.Alive(pid), 10), "blkback survived SIGKILL");
        Assert.True(Eventually.Holds(() => TestHost.Int(Blkback(), "restarts") > restartsBefore && Blkback().GetProperty("state").GetString() == "running", 30), "blkback was not restarted");

        var log = WaitForEnd(name, 180);
        Assert.True(log.Split("blk-verify: pass ").Length - 1 > passesAtKill, "no pass ran after the kill:\n" + log);
        Assert.Matches(@"blk-verify: done: \d+ passes, 0 mismatches, 0 errors", log);
        Assert.Contains("blk-verify: PASS", log, StringComparison.Ordinal);
        Stop(name);
    }
}
