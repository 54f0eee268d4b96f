using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Disagg.DiskImage;

namespace Disagg.DiskImage.Tests;

/// <summary>
/// A child process (tests/Disagg.DiskImage.Writer) writes and discards at random in a qcow2
/// image and is SIGKILLed at random moments, several times over the same image. After each
/// kill qemu-img check must find no corruption (leaks are allowed), every acknowledged
/// operation must be in the image, and every sector must hold either what the acknowledged
/// operations left there or what the one operation in flight was writing — nothing else.
/// </summary>
public sealed class CrashConsistencyTests : IDisposable
{
    private const int Size = 32 << 20;
    private readonly ScratchDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <param name="layout">
    /// "overlay": our image over a raw base (copy-on-write on every partial write);
    /// "qemu-512": a qemu-img image with 512-byte clusters, so kills land while refcount blocks
    /// are added and the refcount table is moved.
    /// </param>
    [Theory]
    [InlineData("overlay")]
    [InlineData("qemu-512")]
    public void SigkilledWriterLeavesNoCorruptionAndLosesNoAcknowledgedWrite(string layout)
    {
        var path = _dir.File("crash.qcow2");
        if (layout == "overlay")
        {
            File.WriteAllBytes(_dir.File("base.raw"), Pattern.Bytes(Size, 9));
            DiskImages.CreateQcow2(path, null, "base.raw", DiskImageFormat.Raw);
        }
        else
        {
            Qemu.Create(path, "qcow2", "32M", "-o", "cluster_size=512");
        }

        var random = new Random(42);
        var totalAcked = 0;
        for (var round = 0; round < 6; round++)
        {
            var before = ReadAll(path);
            var log = RunAndKill(path, seed: round, runFor: TimeSpan.FromMilliseconds(random.Next(150, 900)));
            var check = Qemu.Check(path);
            Assert.True(check.ExitCode is 0 or 3, $"round {round}: qemu-img check after SIGKILL: {check}");
            totalAcked += Verify(before, ReadAll(path), log, round);
        }

        Assert.True(totalAcked > 20, $"only {totalAcked} operations acknowledged: the writer barely ran");

        // The image stays usable: we write to it again and it checks without corruption.
        using (var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: false))
        {
            image.Write(5, Pattern.Bytes(200 * 512, 1));
        }

        var final = Qemu.Check(path);
        Assert.True(final.ExitCode is 0 or 3, "qemu-img check after recovery: " + final);
        Assert.Equal(0, Qemu.Img("check", "-r", "leaks", "-f", "qcow2", path).ExitCode);
        Qemu.AssertClean(path);
    }

    private static byte[] ReadAll(string path)
    {
        var content = new byte[Size];
        using var image = DiskImages.Open(path, DiskImageFormat.Qcow2, readOnly: true);
        image.Read(0, content);
        return content;
    }

    private static List<string> RunAndKill(string path, int seed, TimeSpan runFor)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var writer = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "Disagg.DiskImage.Writer", configuration, "Disagg.DiskImage.Writer.dll"));
        Assert.True(File.Exists(writer), writer + " not built");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(writer);
        psi.ArgumentList.Add(path);
        psi.ArgumentList.Add(seed.ToString(CultureInfo.InvariantCulture));
        var lines = new List<string>();
        using var ready = new ManualResetEventSlim();
        using var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
            }

            if (e.Data == "ready")
            {
                ready.Set();
            }
        };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            if (!ready.Wait(TimeSpan.FromSeconds(60)))
            {
                Assert.Fail("writer did not start within 60 s" + (p.HasExited ? ": " + stderr.Result : string.Empty));
            }

            Thread.Sleep(runFor);
            if (p.HasExited)
            {
                Assert.Fail("writer died on its own: " + stderr.Result);
            }
        }
        finally
        {
            Assert.Equal(0, Kill(p.Id, 9)); // SIGKILL, not a polite shutdown
            Assert.True(p.WaitForExit(30_000), "killed writer did not exit");
            p.WaitForExit(); // drains the output reader
            Assert.True(stderr.Wait(TimeSpan.FromSeconds(30)), "stderr of the killed writer did not close");
        }

        lock (lines)
        {
            return [.. lines];
        }
    }

    /// <summary>Checks the image content against the log; returns the number of acknowledged operations.</summary>
    private static int Verify(byte[] before, byte[] after, List<string> log, int round)
    {
        var model = before;
        string[]? inFlight = null;
        var acked = 0;
        foreach (var line in log.Skip(1))
        {
            var f = line.Split(' ');
            if (f[0] == "A")
            {
                Apply(model, inFlight!);
                inFlight = null;
                acked++;
            }
            else
            {
                inFlight = f;
            }
        }

        for (var s = 0; s < Size / 512; s++)
        {
            var actual = after.AsSpan(s * 512, 512);
            if (actual.SequenceEqual(model.AsSpan(s * 512, 512)))
            {
                continue;
            }

            Assert.True(inFlight is not null && InFlightCovers(inFlight, s, actual), $"round {round}: sector {s} holds data no acknowledged or in-flight operation wrote (after {acked} acks)");
        }

        return acked;
    }

    private static void Apply(byte[] model, string[] op)
    {
        var seq = ulong.Parse(op[1], CultureInfo.InvariantCulture);
        var sector = long.Parse(op[2], CultureInfo.InvariantCulture);
        var count = int.Parse(op[3], CultureInfo.InvariantCulture);
        for (var i = 0; i < count; i++)
        {
            var dest = MemoryMarshal.Cast<byte, ulong>(model.AsSpan((int)((sector + i) * 512), 512));
            dest.Fill(op[0] == "W" ? (seq << 32) | (uint)(sector + i) : 0);
        }
    }

    private static bool InFlightCovers(string[] op, long s, ReadOnlySpan<byte> actual)
    {
        var seq = ulong.Parse(op[1], CultureInfo.InvariantCulture);
        var sector = long.Parse(op[2], CultureInfo.InvariantCulture);
        var count = int.Parse(op[3], CultureInfo.InvariantCulture);
        if (s < sector || s >= sector + count)
        {
            return false;
        }

        var expected = op[0] == "W" ? (seq << 32) | (uint)s : 0;
        foreach (var word in MemoryMarshal.Cast<byte, ulong>(actual))
        {
            if (word != expected)
            {
                return false;
            }
        }

        return true;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
