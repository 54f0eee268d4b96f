using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>Runs the real out/bin/disagg-kernel, and keeps the temporary ELF files the tests write.</summary>
internal static class Kernel
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static ProcessResult RunElf(params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg-kernel"), ["run-elf", .. args], Timeout);

    /// <summary>
    /// run-elf once per engine: the interpreter, and the translator with every block translated at its first
    /// execution (so the QEMU differential tests check both engines against one QEMU run).
    /// </summary>
    public static IEnumerable<(string Engine, ProcessResult Result)> RunElfOnEachEngine(string elf)
    {
        yield return ("interp", RunElf(elf, "--engine", "interp"));
        yield return ("translate", RunElf(elf, "--engine", "translate", "--translate-after", "0"));
    }

    public static string WriteTemp(byte[] contents, string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "disagg-kernel-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, contents);
        return path;
    }
}
