using System.Diagnostics;

namespace Disagg.Blkback.Service.Tests;

/// <summary>
/// An image's bytes as another process sees them. The image is open read-write here, which holds its lock
/// (flock LOCK_EX, as every open through .NET takes one), so the test reads it through cat(1), which takes none.
/// </summary>
internal static class HostFile
{
    public static byte[] ReadAll(string path)
    {
        var psi = new ProcessStartInfo("cat") { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        using var bytes = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(bytes);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return bytes.ToArray();
    }

    public static string Hash(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(ReadAll(path)));
}
