using System.Diagnostics;

namespace Disagg.QemuDm.Tests;

/// <summary>The host's e2fsprogs and qemu-img, run as a user would: what they print, and their exit code.</summary>
internal static class HostTools
{
    public static (int Code, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Runs it and fails the test, with what it printed, unless it exits 0.</summary>
    public static string Check(string program, params string[] args)
    {
        var (code, output) = Run(program, args);
        Assert.True(code == 0, $"{program} {string.Join(' ', args)} exited {code}:\n{output}");
        return output;
    }

    /// <summary>A raw image of <paramref name="mib"/> MiB with an ext4 file system made by mke2fs, holding <paramref name="from"/>'s files if given.</summary>
    public static void MakeExt4(string image, int mib, string? from = null)
    {
        string[] populate = from is null ? [] : ["-d", from];
        Check("mke2fs", ["-q", "-F", "-t", "ext4", "-L", "disagg", .. populate, image, $"{mib}M"]);
    }

    /// <summary>e2fsck's forced, read-only check: exit 0 means the file system is clean.</summary>
    public static (int Code, string Output) Fsck(string image) => Run("e2fsck", "-f", "-n", image);

    /// <summary>A file's bytes read out of an ext4 image by debugfs (no mount).</summary>
    public static byte[] ReadExt4File(string image, string path)
    {
        var dump = Path.GetTempFileName();
        try
        {
            Check("debugfs", "-R", $"dump {path} {dump}", image);
            return File.ReadAllBytes(dump);
        }
        finally
        {
            File.Delete(dump);
        }
    }
}
