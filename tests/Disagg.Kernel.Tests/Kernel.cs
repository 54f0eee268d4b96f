using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>Runs the real out/bin/disagg-kernel, and keeps the temporary ELF files the tests write.</summary>
internal static class Kernel
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static ProcessResult RunElf(params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg-kernel"), ["run-elf", .. args], Timeout);

    public static string WriteTemp(byte[] contents, string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "disagg-kernel-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, contents);
        return path;
    }
}
