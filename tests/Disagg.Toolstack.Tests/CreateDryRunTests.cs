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
}
