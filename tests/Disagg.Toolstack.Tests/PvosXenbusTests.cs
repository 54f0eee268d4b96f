using System.Text.Json;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>One host with xenstored for the pvos xenbus tests (TestHost's services constructor is internal).</summary>
public sealed class XenstoredHost : IDisposable
{
    public XenstoredHost() => Host = StartWithXenstored("");

    /// <summary>
    /// A host whose xenstored made it: `host up` waits 15 s for a service's ready line and then carries on
    /// without it for good (guests get no xenstore), which a loaded build machine sometimes needs. A host
    /// where that happened is taken down and started again, at most three times.
    /// </summary>
    internal static TestHost StartWithXenstored(string extraConfig)
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = new TestHost("xenstored", extraConfig);
            var log = File.ReadAllText(Path.Combine(host.Dir, "disagg.log"));
            if (log.Contains("service xenstored ready", StringComparison.Ordinal) || attempt == 3)
            {
                return host;
            }

            host.Dispose();
        }
    }

    internal TestHost Host { get; }

    public string Socket => Path.Combine(Host.Dir, "xenstored.sock");

    public void Dispose() => Host.Dispose();
}

/// <summary>
/// pvos's xenstore client against the real xenstored on a real host: the xenbus-test app's requests,
/// transactions, watches and state waits (this side plays the other end with xenstore-write), and the
/// balloon following memory/target as `disagg mem-set` writes it.
/// </summary>
public sealed class PvosXenbusTests(XenstoredHost fixture) : IClassFixture<XenstoredHost>
{
    private TestHost Host => fixture.Host;

    private string WriteConfig(string name, string width, string cmdline, int memoryMiB, int maxMiB, string extra = "")
    {
        var cfg = Path.Combine(Host.GuestDir, name + ".cfg");
        File.WriteAllText(cfg, $"""
            name = "{name}"
            kernel = "{Path.Combine(RepoPaths.Guests, width, "pvos.elf")}"
            memory = {memoryMiB}
            maxmem = {maxMiB}
            cmdline = "{cmdline}"
            {extra}
            """);
        return cfg;
    }

    private string? XsRead(string path)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-read", path], TestHost.Bound);
        return r.ExitCode == 0 ? r.StdOut.Trim() : null;
    }

    private void XsWrite(string path, string value)
    {
        var r = HostProcess.Run("env", [$"XENSTORED_PATH={fixture.Socket}", "xenstore-write", path, value], TestHost.Bound);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    private void WaitForLog(string name, string text, double seconds = 60) =>
        Assert.True(Eventually.Holds(() => Host.ConsoleLog(name).Contains(text, StringComparison.Ordinal), seconds), $"no '{text}' in:\n{Host.ConsoleLog(name)}");

    private long MemMiB(string name) => Host.Domain(name)!.Value.GetProperty("mem_mib").GetInt64();

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void XenbusTestAppReadsWritesTransactsAndWatchesThroughXenstored(string width)
    {
        var name = "xbt-" + width;
        Host.MustRun("create", WriteConfig(name, width, "app=xenbus-test", 8, 8, "on_poweroff = \"preserve\""));
        var id = TestHost.Id(Host.Domain(name)!.Value);
        var data = $"/local/domain/{id}/data/xenbus-test";

        WaitForLog(name, "xenbus-test: watching data/xenbus-test/ping");
        Assert.Contains($"domid {id} (from xenstore)", Host.ConsoleLog(name), StringComparison.Ordinal);
        Assert.Equal("hello from pvos", XsRead($"{data}/greeting"));
        Assert.Equal("21", XsRead($"{data}/counter"));
        Assert.Null(XsRead($"{data}/aborted"));
        Assert.Equal("watching", XsRead($"{data}/ready"));
        XsWrite($"{data}/ping", "pong");

        WaitForLog(name, "xenbus-test: waiting for data/xenbus-test/be/state");
        Assert.Equal("3", XsRead($"{data}/fe/state"));
        XsWrite($"{data}/be/state", "2");
        Thread.Sleep(300); // InitWait is not what it waits for: it must keep waiting
        XsWrite($"{data}/be/state", "4");

        WaitForLog(name, "xenbus-test: PASS");
        var log = Host.ConsoleLog(name);
        Assert.DoesNotContain("FAIL", log, StringComparison.Ordinal);
        Assert.Contains("xenbus-test: watch fired ok", log, StringComparison.Ordinal);
        Assert.Contains("xenbus-test: waited for the other end: Connected ok", log, StringComparison.Ordinal);
        Assert.Contains("xenbus-test: conflicting commit is EAGAIN ok", log, StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => XsRead($"{data}/fe/state") == "4"), "fe/state did not reach Connected");
        Host.MustRun("destroy", name);
    }

    [Theory]
    [InlineData("rv64")]
    [InlineData("rv32")]
    public void MemSetMovesARunningPvosGuestsBalloonDownAndUp(string width)
    {
        var name = "balloon-" + width;
        Host.MustRun("create", WriteConfig(name, width, "app=echo", 8, 16));
        WaitForLog(name, "pvos: balloon: memory/target 8192 KiB");
        Assert.Equal(8, MemMiB(name));

        Host.MustRun("mem-set", name, "5");
        Assert.True(Eventually.Holds(() => MemMiB(name) == 5), $"mem_mib stayed {MemMiB(name)}:\n{Host.ConsoleLog(name)}");
        WaitForLog(name, "pvos: balloon: memory/target 5120 KiB: 2048 -> 1280 pages");

        Host.MustRun("mem-set", name, "12");
        Assert.True(Eventually.Holds(() => MemMiB(name) == 12), $"mem_mib stayed {MemMiB(name)}:\n{Host.ConsoleLog(name)}");
        WaitForLog(name, "pvos: balloon: memory/target 12288 KiB: 1280 -> 3072 pages");

        // Above maxmem the toolstack refuses; the guest keeps what it has.
        Assert.NotEqual(0, Host.Run("mem-set", name, "32").ExitCode);
        Assert.Equal(12, MemMiB(name));
        Host.MustRun("destroy", name);
    }
}
