using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// tools/aot-choice.sh (make run's choice; the daemon's ProgramChoice is the same rule): out/aot only while its
/// publish stamp is newer than the last build, and a stale one is passed over with a message, never run.
/// </summary>
public sealed class AotChoiceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("aotc-").FullName;

    public AotChoiceTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "tools"));
        Directory.CreateDirectory(Path.Combine(_root, "out", "bin"));
        File.Copy(Path.Combine(RepoPaths.Root, "tools", "aot-choice.sh"), Path.Combine(_root, "tools", "aot-choice.sh"));
        File.WriteAllText(Path.Combine(_root, "out", "bin", "disagg.dll"), "");
    }

    private string Dll => Path.Combine(_root, "out", "bin", "disagg.dll");

    private string Stamp => Path.Combine(_root, "out", "aot", ".published");

    private ProcessResult Choose(bool forceJit = false) => HostProcess.Run(
        "env", [forceJit ? "DISAGG_JIT=1" : "DISAGG_JIT=0", "bash", Path.Combine(_root, "tools", "aot-choice.sh")], TimeSpan.FromSeconds(30));

    private void Publish()
    {
        Directory.CreateDirectory(Path.Combine(_root, "out", "aot"));
        var program = Path.Combine(_root, "out", "aot", "disagg");
        File.WriteAllText(program, "#!/bin/sh\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Stamp, "");
    }

    [Fact]
    public void WithoutAPublishTheBuildRuns()
    {
        var r = Choose();
        Assert.Equal("out/bin", r.StdOut.Trim());
        Assert.Equal("", r.StdErr.Trim());
    }

    [Fact]
    public void AFreshPublishRunsAndAStaleOneIsRefusedWithAMessage()
    {
        Publish();
        File.SetLastWriteTimeUtc(Dll, DateTime.UtcNow.AddMinutes(-10));
        File.SetLastWriteTimeUtc(Stamp, DateTime.UtcNow.AddMinutes(-5));
        Assert.Equal("out/aot", Choose().StdOut.Trim());
        Assert.Equal("out/bin", Choose(forceJit: true).StdOut.Trim());

        // A build after the publish: the NativeAOT binaries may be older than the sources.
        File.SetLastWriteTimeUtc(Dll, DateTime.UtcNow);
        var stale = Choose();
        Assert.Equal("out/bin", stale.StdOut.Trim());
        Assert.Contains("is older than the build in out/bin", stale.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("disagg-sandbox")]
    [InlineData("sandbox/netback.syscalls")]
    public void ALauncherOrAllowListBuiltAfterThePublishMakesItStale(string file)
    {
        Publish();
        File.SetLastWriteTimeUtc(Dll, DateTime.UtcNow.AddMinutes(-10));
        File.SetLastWriteTimeUtc(Stamp, DateTime.UtcNow.AddMinutes(-5));
        var path = Path.Combine(_root, "out", "bin", file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-7));
        Assert.Equal("out/aot", Choose().StdOut.Trim()); // built before the publish: it is in out/aot

        // Only the sandbox changed since (no assembly did): out/aot would run the old launcher or allow-list.
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        var stale = Choose();
        Assert.Equal("out/bin", stale.StdOut.Trim());
        Assert.Contains(file, stale.StdErr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
