using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.DiskImage.Tests;

/// <summary>qemu-img and qemu-io (Debian's qemu-utils): the outside judge of every image we write.</summary>
public static partial class Qemu
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static ProcessResult Img(params string[] args) => HostProcess.Run("qemu-img", args, Timeout);

    /// <summary>qemu-img check: exit 0 = clean, 3 = leaks only, 2 = corruption.</summary>
    public static ProcessResult Check(string image) => Img("check", "-f", "qcow2", image);

    public static void AssertClean(string image)
    {
        var r = Check(image);
        Assert.True(r.ExitCode == 0, "qemu-img check: " + r);
    }

    /// <summary>Asserts qemu-img compare finds the two images' guest content identical.</summary>
    public static void AssertSameContent(string image, string format, string expectedRaw)
    {
        var r = Img("compare", "-f", format, "-F", "raw", image, expectedRaw);
        Assert.True(r.ExitCode == 0, "qemu-img compare: " + r);
    }

    public static void Create(string path, string format, string size, params string[] extra)
    {
        var args = new List<string> { "create", "-q", "-f", format };
        args.AddRange(extra);
        args.Add(path);
        args.Add(size);
        var r = Img([.. args]);
        Assert.True(r.ExitCode == 0, "qemu-img create: " + r);
    }

    /// <summary>Runs qemu-io commands (e.g. "write -P 0xab 0 64k") on an image.</summary>
    public static void Io(string image, string format, params string[] commands)
    {
        var args = new List<string> { "-f", format };
        foreach (var c in commands)
        {
            args.Add("-c");
            args.Add(c);
        }

        args.Add(image);
        var r = HostProcess.Run("qemu-io", args, Timeout);
        Assert.True(r.ExitCode == 0 && !r.StdOut.Contains("error", StringComparison.OrdinalIgnoreCase) && !r.StdErr.Contains("error", StringComparison.OrdinalIgnoreCase), "qemu-io: " + r);
    }

    /// <summary>Allocated 512-byte blocks of a file (st_blocks), from stat(1).</summary>
    public static long AllocatedBlocks(string path)
    {
        var r = HostProcess.Run("stat", ["-c", "%b", path], Timeout);
        Assert.Equal(0, r.ExitCode);
        return long.Parse(r.StdOut.Trim(), CultureInfo.InvariantCulture);
    }

    public static long LeakedClusters(ProcessResult check)
    {
        var m = LeakLine().Match(check.StdOut);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"(\d+) leaked clusters")]
    private static partial Regex LeakLine();
}
