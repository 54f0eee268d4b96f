using System.Text.Json;
using System.Diagnostics;
using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>The xl verbs end to end: the real CLI binary, a real daemon, a real kernel, real guests.</summary>
public sealed class DomainLifecycleTests(TestHost host) : IClassFixture<TestHost>
{
    private string Guest(string name, string text, TestGuest.End end, string extra = "", bool rv32 = false) =>
        TestGuest.WriteConfig(host.GuestDir, name, text, end, extra, rv32);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CreatedGuestRunsShowsInListAndPausesUnpausesAndIsDestroyed(bool rv32)
    {
        var name = rv32 ? "spin32" : "spin64";
        var created = host.MustRun("create", Guest(name, $"hello from {name}\n", TestGuest.End.Spin, "vcpus = 1", rv32));
        Assert.Contains($"created domain '{name}'", created.StdOut, StringComparison.Ordinal);
        var row = host.Domain(name)!.Value;
        Assert.Equal(8, TestHost.Int(row, "mem_mib"));
        Assert.Equal(1, TestHost.Int(row, "vcpus"));
        Assert.DoesNotContain('p', row.GetProperty("state").GetString()!);
        Assert.True(Eventually.Holds(() => host.ConsoleLog(name).Contains($"hello from {name}", StringComparison.Ordinal)), "console log: " + host.ConsoleLog(name));
        Assert.Contains(name, host.MustRun("list").StdOut, StringComparison.Ordinal);

        host.MustRun("pause", name);
        Assert.StartsWith("--p", host.Domain(name)!.Value.GetProperty("state").GetString()!, StringComparison.Ordinal);
        var pausedTime = host.Domain(name)!.Value.GetProperty("cpu_time_ns").GetInt64();
        host.MustRun("unpause", TestHost.Id(row)); // by id as well as by name
        Thread.Sleep(300);
        Assert.True(Eventually.Holds(() => host.Domain(name)!.Value.GetProperty("cpu_time_ns").GetInt64() > pausedTime + 20_000_000), "CPU time did not grow after unpause");

        host.MustRun("destroy", name);
        Assert.Null(host.Domain(name));
        var again = host.Run("pause", name);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains($"domain '{name}': no such domain", again.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void CreatePausedLeavesItPausedWithoutCpuTime()
    {
        host.MustRun("create", "-p", Guest("held", "never printed until unpaused\n", TestGuest.End.Spin));
        Thread.Sleep(200);
        var row = host.Domain("held")!.Value;
        Assert.StartsWith("--p", row.GetProperty("state").GetString()!, StringComparison.Ordinal);
        Assert.Equal(0, row.GetProperty("cpu_time_ns").GetInt64());
        host.MustRun("destroy", "held");
    }

    [Fact]
    public void ShutdownWaitAppliesOnPoweroffDestroy()
    {
        host.MustRun("create", Guest("stopper", "up\n", TestGuest.End.Spin));
        host.MustRun("shutdown", "-w", "stopper");
        Assert.Null(host.Domain("stopper"));
    }

    [Fact]
    public void GuestPoweroffWithPreserveStaysShutDown()
    {
        host.MustRun("create", Guest("keeper", "bye\n", TestGuest.End.Poweroff, "on_poweroff = \"preserve\""));
        Assert.True(Eventually.Holds(() => host.Domain("keeper")?.GetProperty("state").GetString() == "---s--"));
        host.MustRun("destroy", "keeper");
    }

    [Fact]
    public void RebootVerbWithOnRebootRestartRecreatesTheDomain()
    {
        host.MustRun("create", Guest("phoenix", "phoenix boots\n", TestGuest.End.Spin, "on_reboot = \"restart\""));
        var first = TestHost.Id(host.Domain("phoenix")!.Value);
        Assert.True(Eventually.Holds(() => host.ConsoleLog("phoenix").Contains("phoenix boots", StringComparison.Ordinal)));
        host.MustRun("reboot", "-w", "phoenix");
        var second = host.Domain("phoenix");
        Assert.NotNull(second);
        Assert.NotEqual(first, TestHost.Id(second.Value));
        Assert.True(Eventually.Holds(() => host.ConsoleLog("phoenix").Split("phoenix boots").Length - 1 == 2), "console log: " + host.ConsoleLog("phoenix"));
        host.MustRun("destroy", "phoenix");
    }

    [Fact]
    public void GuestThatRebootsItselfIsRestartedUntilTheLoopGuardDestroysIt()
    {
        host.MustRun("create", Guest("looper", "looper boots\n", TestGuest.End.Reboot, "on_reboot = \"restart\""));
        // Each boot prints once, then reboots; the daemon recreates it from its config each time,
        // until 10 restarts in 10 s, when it destroys it instead.
        Assert.True(Eventually.Holds(() => host.Domain("looper") is null, 30), "still there: " + host.MustRun("list").StdOut);
        var boots = host.ConsoleLog("looper").Split("looper boots").Length - 1;
        Assert.Equal(11, boots);
        Assert.Contains("domain 'looper': restarted 10 times in 10 s; destroyed instead", File.ReadAllText(Path.Combine(host.Dir, "disagg.log")), StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigErrorsNameFileLineAndColumnAndCreateNothing()
    {
        var path = Path.Combine(host.GuestDir, "broken.cfg");
        File.WriteAllText(path, "name = \"broken\"\nkernel = \"x.elf\"\nmemory = = 8\n");
        var r = host.Run("create", path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{path}:3:", r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.StdErr, StringComparison.Ordinal);
        Assert.Null(host.Domain("broken"));

        var missingKernel = Path.Combine(host.GuestDir, "nokernel.cfg");
        File.WriteAllText(missingKernel, "name = \"nokernel\"\nkernel = \"absent.elf\"\nmemory = 8\n");
        var r2 = host.Run("create", missingKernel);
        Assert.Equal(1, r2.ExitCode);
        Assert.Contains("domain 'nokernel': cannot read kernel", r2.StdErr, StringComparison.Ordinal);
        Assert.Null(host.Domain("nokernel"));
    }

    [Fact]
    public void MemoryVcpuAndSchedulerVerbsReachTheKernel()
    {
        host.MustRun("create", Guest("tuned", "tuned\n", TestGuest.End.Spin, "maxmem = 16\nvcpus = 1\nmaxvcpus = 2"));
        host.MustRun("mem-max", "tuned", "12m");
        Assert.Equal(12, TestHost.Int(host.Domain("tuned")!.Value, "maxmem_mib"));
        var tooMuch = host.Run("mem-set", "tuned", "64");
        Assert.Equal(1, tooMuch.ExitCode);
        Assert.Contains("domain 'tuned':", tooMuch.StdErr, StringComparison.Ordinal);
        host.MustRun("vcpu-set", "tuned", "2");
        Assert.Equal(2, TestHost.Int(host.Domain("tuned")!.Value, "vcpus"));
        host.MustRun("sched-credit", "-d", "tuned", "-w", "512", "-c", "50");
        var sched = host.Json("sched-credit", "-d", "tuned")[0];
        Assert.Equal(512, TestHost.Int(sched, "weight"));
        Assert.Equal(50, TestHost.Int(sched, "cap"));
        host.MustRun("vcpu-pin", "tuned", "all", "0");
        var vcpus = host.Json("vcpu-list", "tuned");
        Assert.Equal(2, vcpus.GetArrayLength());
        Assert.All(vcpus.EnumerateArray(), v => Assert.Equal("0", v.GetProperty("affinity").GetString()));
        host.MustRun("destroy", "tuned");
    }

    [Fact]
    public void InfoTopAndDmesgDescribeTheHost()
    {
        var info = host.Json("info");
        Assert.Equal(1, TestHost.Int(info, "nr_cpus"));
        Assert.Equal(128, TestHost.Int(info, "total_memory"));
        Assert.Equal(Path.Combine(host.Dir, "disagg.sock"), info.GetProperty("toolstack_socket").GetString());

        // xl's key names, the same in the text as in --json
        var text = host.MustRun("info").StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 2)[0].Trim()).ToList();
        Assert.Equal([.. info.EnumerateObject().Select(p => p.Name)], text);
        Assert.Contains("xen_version", text);
        Assert.Contains("free_memory", text);
        host.MustRun("create", Guest("burner", "burning\n", TestGuest.End.Spin));
        var top = host.Json("top", "--once", "--delay", "0.5");
        var burner = top.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "burner");
        Assert.InRange(burner.GetProperty("cpu_percent").GetDouble(), 30, 110); // a spinning guest on the host's one pCPU
        // xentop's habit: every figure ends where its header ends
        var topText = host.MustRun("top", "--once", "--delay", "0.1").StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var header in new[] { "ID", "CPU(sec)", "CPU(%)", "MEM(MiB)", "MAXMEM(MiB)", "VCPUS" })
        {
            var end = topText[0].IndexOf(header, StringComparison.Ordinal) + header.Length;
            Assert.All(topText.Skip(1), row => Assert.True(
                char.IsAsciiDigit(row[end - 1]) && (row.Length == end || row[end] == ' '),
                $"{header} not right-aligned:\n{string.Join('\n', topText)}"));
        }

        var line = "(d" + TestHost.Id(host.Domain("burner")!.Value) + ") burning";
        Assert.Contains(line, host.MustRun("dmesg").StdOut, StringComparison.Ordinal);

        // xl dmesg -c: printed once, then gone from the log, and never taken from the guest's console
        Assert.Contains(line, host.MustRun("dmesg", "-c").StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(line, host.MustRun("dmesg").StdOut, StringComparison.Ordinal);
        Assert.Contains("burning", host.ConsoleLog("burner"), StringComparison.Ordinal);
        host.MustRun("destroy", "burner");
    }

    [Fact]
    public async Task ConsoleShowsGuestOutputAndEndsWhenTheDomainIsDestroyed()
    {
        host.MustRun("create", Guest("talker", "talker says hi\n", TestGuest.End.Spin));
        var psi = new ProcessStartInfo(RepoPaths.Program("disagg"), ["console", "talker", "--state-dir", host.Dir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var console = Process.Start(psi)!;
        var output = await console.StandardOutput.ReadLineAsync().WaitAsync(TestHost.Bound);
        Assert.Equal("talker says hi", output);
        host.MustRun("destroy", "talker");
        Assert.True(console.WaitForExit(TestHost.Bound), "console did not end with its domain");
        Assert.Equal(0, console.ExitCode);
        Assert.Contains("[console closed: domain 'talker': destroyed]", console.StandardError.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoClisAtOnceNeverCorruptTheDomainTable()
    {
        var configs = Enumerable.Range(0, 4).Select(i => Guest($"pair{i}", $"pair{i}\n", TestGuest.End.Spin)).ToArray();
        var same = Guest("twin", "twin\n", TestGuest.End.Spin);
        var results = new ProcessResult[6];
        Parallel.For(0, 6, i => results[i] = i < 4 ? host.Run("create", configs[i]) : host.Run("create", same));
        Assert.All(results.Take(4), r => Assert.True(r.ExitCode == 0, r.ToString()));
        // The same name twice at once: exactly one wins, the other is told why.
        Assert.Equal(1, results.Skip(4).Count(r => r.ExitCode == 0));
        Assert.Contains("domain 'twin'", results.Skip(4).Single(r => r.ExitCode != 0).StdErr, StringComparison.Ordinal);
        var ids = host.Json("list").EnumerateArray().Select(d => TestHost.Int(d, "id")).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Parallel.For(0, 5, i => host.MustRun("destroy", i < 4 ? $"pair{i}" : "twin"));
        Assert.Single(host.Json("list").EnumerateArray()); // Domain-0 only
    }

    [Fact]
    public void KilledServiceIsRestartedAndServiceListShowsIt()
    {
        var before = host.Json("service", "list").EnumerateArray().Single();
        Assert.Equal("probe", before.GetProperty("name").GetString());
        Assert.Equal("running", before.GetProperty("state").GetString());
        Assert.True(before.GetProperty("rss_bytes").GetInt64() > 0);
        var oldPid = TestHost.Int(before, "pid");
        host.MustRun("service", "kill", "probe");
        JsonElement after = default;
        Assert.True(Eventually.Holds(() =>
        {
            after = host.Json("service", "list").EnumerateArray().Single();
            return after.GetProperty("state").GetString() == "running" && after.TryGetProperty("pid", out var p) && p.GetInt32() != oldPid;
        }));
        Assert.Equal(1, TestHost.Int(after, "restarts"));
        Assert.Equal("killed by signal 9 (SIGKILL)", after.GetProperty("last_exit").GetString());
        Assert.False(TestHost.Alive(oldPid));
        Assert.Contains("service probe restarted: died at", File.ReadAllText(Path.Combine(host.Dir, "disagg.log")), StringComparison.Ordinal);

        // A planned restart: SIGTERM, logged at info, neither counted nor shown as a crash.
        var killedPid = TestHost.Int(after, "pid");
        host.MustRun("service", "restart", "probe");
        JsonElement restarted = default;
        Assert.True(Eventually.Holds(() =>
        {
            restarted = host.Json("service", "list").EnumerateArray().Single();
            return restarted.GetProperty("state").GetString() == "running" && restarted.TryGetProperty("pid", out var p) && p.GetInt32() != killedPid;
        }));
        Assert.Equal(1, TestHost.Int(restarted, "restarts"));
        Assert.Equal("planned restart (killed by signal 15 (SIGTERM))", restarted.GetProperty("last_exit").GetString());
        var log = File.ReadAllText(Path.Combine(host.Dir, "disagg.log"));
        // "time info: message": no logger category, no bracketed event id a reader could take for a pid
        Assert.Matches(
            @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} info: service probe restart \(planned restart\): serving again after",
            log.Split('\n').Single(l => l.Contains("service probe restart (planned restart): serving again after", StringComparison.Ordinal)));
        Assert.DoesNotMatch(@"\w\[\d+\]", log);
        Assert.Single(log.Split('\n'), l => l.Contains("service probe restarted: died at", StringComparison.Ordinal));
        var unknown = host.Run("service", "kill", "nosuch");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no service 'nosuch'", unknown.StdErr, StringComparison.Ordinal);
    }
}
