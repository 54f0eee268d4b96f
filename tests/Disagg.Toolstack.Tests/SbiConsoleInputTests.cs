using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>`disagg console` typing into a guest that has no PV console ring: the keys reach its SBI console.</summary>
public sealed class SbiConsoleInputTests(TestHost host) : IClassFixture<TestHost>
{
    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void KeysTypedInDisaggConsoleReachAGuestReadingSbiGetchar(string width)
    {
        var name = "sbi-echo-" + width;
        var cfg = Path.Combine(host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"name = \"{name}\"\nkernel = \"{Path.Combine(RepoPaths.Guests, width, "sbi-echo.elf")}\"\nmemory = 8\non_poweroff = \"destroy\"\n");
        host.MustRun("create", cfg);
        Assert.True(Eventually.Holds(() => host.ConsoleLog(name).Contains("sbi-echo ready", StringComparison.Ordinal)), host.ConsoleLog(name));

        // Two lines (one read by legacy getchar, one by DBCN read), then "." powers the guest off; the
        // console itself ends at the end of its input, so the echoes are read from the console log.
        var script = $"printf 'hello sbi\\rsecond\\r.\\r' | '{RepoPaths.Program("disagg")}' console {name} --state-dir '{host.Dir}'";
        var console = HostProcess.Run("sh", ["-c", script], TestHost.Bound);
        Assert.True(console.ExitCode == 0, console.ToString());
        Assert.True(Eventually.Holds(() => host.ConsoleLog(name).Contains("sbi-echo done", StringComparison.Ordinal)), host.ConsoleLog(name));
        Assert.Contains("echo: HELLO SBI", host.ConsoleLog(name), StringComparison.Ordinal);
        Assert.Contains("echo: SECOND", host.ConsoleLog(name), StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => host.Domain(name) is null), "the guest powered off");
    }
}
