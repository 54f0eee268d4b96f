using System.Diagnostics;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>How the CLI behaves as a Unix tool and as xl: exit codes, signals, end of input, xl's refusals, create's checks.</summary>
public sealed class CliConductTests(TestHost host) : IClassFixture<TestHost>
{
    private string Guest(string name, string extra = "") =>
        TestGuest.WriteConfig(host.GuestDir, name, name + " up\n", TestGuest.End.Spin, extra);

    [Fact]
    public void DestroyOfDomain0GetsXlsRefusal()
    {
        var r = host.Run("destroy", "0");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("disagg destroy: cannot destroy privileged domain 0", r.StdErr.Trim());
    }

    [Fact]
    public void UsageErrorsExit2AndRuntimeFailuresExit1()
    {
        Assert.Equal(2, host.Run("frobnicate").ExitCode);
        Assert.Equal(2, host.Run("destroy").ExitCode); // missing DOMAIN
        Assert.Equal(2, host.Run("host", "up", "--pcpus", "99").ExitCode);
        var missing = host.Run("destroy", "no-such-domain");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no such domain", missing.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task ASignalEndsAVerbQuietly(string signal, int exitCode)
    {
        var name = "signalled-" + signal.ToLowerInvariant();
        host.MustRun("create", Guest(name));

        // The test runner may start children with SIGINT ignored (as a shell does for background jobs), and a
        // process keeps an ignored signal ignored: python restores the default before it becomes `disagg console`.
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // kept open: the console stays attached until the signal
        };
        foreach (var a in new[] { "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])", RepoPaths.Program("disagg"), "console", name, "--state-dir", host.Dir })
        {
            psi.ArgumentList.Add(a);
        }

        using var console = Process.Start(psi)!;
        var stderr = console.StandardError.ReadToEndAsync();
        Assert.Equal(name + " up", await console.StandardOutput.ReadLineAsync().WaitAsync(TestHost.Bound)); // attached
        var kill = HostProcess.Run("kill", ["-" + signal, console.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TestHost.Bound);
        Assert.True(kill.ExitCode == 0, kill.ToString());
        Assert.True(console.WaitForExit(TestHost.Bound), "console did not end at the signal");
        Assert.Equal(exitCode, console.ExitCode);
        Assert.Equal("", (await stderr).Trim());
        host.MustRun("destroy", name);
    }

    [Fact]
    public void ConsoleWithStdinNotATerminalEndsAtEndOfInput()
    {
        host.MustRun("create", Guest("eof-console"));
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["console", "eof-console", "--state-dir", host.Dir], TestHost.Bound, stdin: "");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.NotNull(host.Domain("eof-console")); // it detached; the domain runs on
        host.MustRun("destroy", "eof-console");
    }

    [Theory]
    [InlineData("qcow2", "missing", "does not exist")]
    [InlineData("qcow2", "zeros", "not a qcow2 image")]
    [InlineData("raw", "directory", "is a directory")]
    public void CreateRefusesADiskItCannotServeAndLeavesNothingBehind(string format, string image, string reason)
    {
        var name = $"bad-disk-{format}-{image}";
        var target = Path.Combine(host.GuestDir, name + ".img");
        switch (image)
        {
            case "zeros":
                File.WriteAllBytes(target, new byte[64 * 1024]); // raw zeros, claimed to be qcow2
                break;
            case "directory":
                Directory.CreateDirectory(target);
                break;
        }

        var r = host.Run("create", Guest(name, $"disk = ['format={format}, vdev=xvda, access=rw, target={target}']\n"));
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"disagg create: domain '{name}': disk xvda: image {target} ({format}): ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.Null(host.Domain(name));
        Assert.False(File.Exists(Path.Combine(host.Dir, "console", $"guest-{name}.log")), "a console log was left behind");
    }

    [Fact]
    public void CreateAppliesKeyValueOverridesAsXlDoes()
    {
        host.MustRun("create", Guest("ovr-base"), "name=\"ovr-renamed\"", "memory=24");
        var domain = host.Domain("ovr-renamed");
        Assert.NotNull(domain);
        Assert.Equal(24, TestHost.Int(domain.Value, "mem_mib"));
        Assert.Null(host.Domain("ovr-base"));
        host.MustRun("destroy", "ovr-renamed");
    }

    [Fact]
    public void ListLongShowsEachGuestsConfigAsXlDoes()
    {
        host.MustRun("create", Guest("long-listed"), "memory=20");
        using var json = System.Text.Json.JsonDocument.Parse(host.MustRun("list", "-l").StdOut);
        var rows = json.RootElement.EnumerateArray().ToList();
        var dom0 = rows.Single(r => r.GetProperty("domid").GetInt32() == 0);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, dom0.GetProperty("config").ValueKind);
        var guest = rows.Single(r => r.GetProperty("name").GetString() == "long-listed");
        Assert.Equal(20, guest.GetProperty("config").GetProperty("memory").GetInt32());
        Assert.Equal("long-listed", guest.GetProperty("config").GetProperty("name").GetString());
        host.MustRun("destroy", "long-listed");
    }
}
