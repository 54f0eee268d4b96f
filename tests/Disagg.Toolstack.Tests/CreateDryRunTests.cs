using System.Text.Json;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>The real `disagg` binary, as a user runs it.</summary>
public sealed class CreateDryRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("disagg-cfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ProcessResult Disagg(params string[] args) =>
        HostProcess.Run(RepoPaths.Program("disagg"), args, TimeSpan.FromSeconds(30));

    private string Write(string text)
    {
        var path = Path.Combine(_dir, "g.cfg");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void DryRunPrintsTheParsedConfigAsJson()
    {
        var path = Write("name = 'g1'\nkernel = '/k.elf'\nmemory = 64\nvif = ['bridge=br9']\nfrobnicate = 1\n");
        var r = Disagg("create", "-n", path);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.StdOut);
        Assert.Equal("g1", json.RootElement.GetProperty("name").GetString());
        Assert.Equal(64, json.RootElement.GetProperty("memory").GetInt32());
        Assert.Equal("br9", json.RootElement.GetProperty("vifs")[0].GetProperty("bridge").GetString());
        Assert.Contains($"{path}:5:1: warning: unknown setting 'frobnicate' ignored", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedConfigIsReportedWithLineAndColumnAndNoStackTrace()
    {
        var path = Write("name = 'g1'\nkernel = '/k.elf'\nmemory = = 3\n");
        var r = Disagg("create", "-n", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{path}:3:10: expected a value", r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingConfigFileIsAnErrorNotACrash()
    {
        var r = Disagg("create", "-n", Path.Combine(_dir, "nope.cfg"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("does not exist", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoDisksOnOneVdevAreRefused()
    {
        var path = Write("name = 'g1'\nkernel = '/k.elf'\ndisk = ['/a.img,raw,xvda,rw', '/b.img,raw,xvda,rw']\n");
        var r = Disagg("create", "-n", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("disk 2 (/b.img): vdev xvda is already used by disk 1 (/a.img)", r.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("01:16:3e:00:00:01", "multicast")]
    [InlineData("ff:ff:ff:ff:ff:ff", "broadcast")]
    public void AMulticastOrBroadcastMacIsRefused(string mac, string what)
    {
        var path = Write($"name = 'g1'\nkernel = '/k.elf'\nvif = ['mac={mac}, bridge=br0']\n");
        var r = Disagg("create", "-n", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"mac {mac} is {(what == "broadcast" ? "the broadcast address" : "a multicast address")}", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void AConfigPathThatIsADirectoryIsCalledOne()
    {
        var r = Disagg("create", "-n", _dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"config '{_dir}' is a directory, not a config file", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyValueOverridesReplaceTheFilesSettings()
    {
        var path = Write("name = 'g1'\nkernel = '/k.elf'\nmemory = 64\nvcpus = 1\n");
        var r = Disagg("create", "-n", path, "memory=256", "name=\"g2\"");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.StdOut);
        Assert.Equal("g2", json.RootElement.GetProperty("name").GetString());
        Assert.Equal(256, json.RootElement.GetProperty("memory").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("vcpus").GetInt32());
    }

    [Fact]
    public void AMalformedOverrideIsReportedAsAnOverride()
    {
        var path = Write("name = 'g1'\nkernel = '/k.elf'\n");
        var r = Disagg("create", "-n", path, "memory");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("override 1:1:", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingConfigArgumentIsAUsageError()
    {
        var r = Disagg("create", "-n");
        Assert.Equal(2, r.ExitCode);
    }
}
