using System.Text.RegularExpressions;
using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.TestSupport;

namespace Disagg.PvGuest.Tests;

/// <summary>
/// pvos (guests/build/&lt;width&gt;/pvos.elf) as the toolstack boots it: CreateDomain, LoadKernel with a
/// command line, Unpause; what it did is read back from the kernel message log (its console_io output),
/// pushed domain events and ListDomains. Each width runs in its own kernel, in parallel.
/// </summary>
public abstract partial class PvGuestTests(KernelHost host, GuestIsa isa)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private int Width => isa == GuestIsa.Rv64 ? 64 : 32;

    private byte[] Image => File.ReadAllBytes(Path.Combine(RepoPaths.Guests, isa == GuestIsa.Rv64 ? "rv64" : "rv32", "pvos.elf"));

    /// <summary>Creates, loads (the command line gets domid= appended) and unpauses a pvos domain.</summary>
    private async Task<int> BootAsync(string name, string cmdline, long memoryKiB = 8192, long maxKiB = 0)
    {
        var spec = new CreateDomain($"{name}-rv{Width}", isa, 1, 1, memoryKiB, Math.Max(memoryKiB, maxKiB), 256, 0, [ulong.MaxValue], 0, 0);
        var id = (await host.Control.CallAsync<DomainCreated>(spec)).DomainId;
        await host.Control.CallAsync<OkReply>(new LoadKernel(id, Image, null, $"{cmdline} domid={id}"));
        await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));
        return id;
    }

    private async Task<DomainEvent> WaitForEndAsync(int id)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            DomainEvent e;
            try
            {
                e = await host.Control.Events.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"domain {id} did not shut down in {Timeout.TotalSeconds} s; its log:\n{await LogAsync(id)}");
            }

            if (e.DomainId == id && e.State is "s" or "c")
            {
                return e;
            }
        }
    }

    /// <summary>The domain's lines of the kernel message log, without their "(dN) " prefix.</summary>
    private async Task<string> LogAsync(int id)
    {
        var prefix = $"({'d'}{id}) ";
        var lines = (await host.DmesgAsync()).Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..]);
        return string.Join('\n', lines);
    }

    private async Task<DomainSummary?> FindAsync(int id) =>
        (await host.Control.CallAsync<DomainList>(new ListDomains())).Domains.SingleOrDefault(d => d.DomainId == id);

    private async Task DestroyAsync(int id) => await host.Control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));

    [Fact]
    public async Task HelloParsesStartInfoPrintsItsBannerSelfTestsAndPowersOff()
    {
        var id = await BootAsync("hello", "app=hello");
        var end = await WaitForEndAsync(id);
        var log = await LogAsync(id);
        Assert.Equal("s", end.State);
        Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);
        AssertLog($"pvos: Disagg PV guest OS, rv{Width}, on Xen 4.17-disagg (xen-4.17-riscv{Width})", log);
        AssertLog("nr_pages 2048 (8192 KiB), shared_info 0x7ff01000", log);
        AssertLog($"cmd_line 'app=hello domid={id}'", log);
        AssertLogMatches(@"events: 2-level ABI, 4096 ports; ipi port \d+ \(status 0: state 5\) self-test ok \(1 upcall\)", log);
        AssertLogMatches(@"gnttab: v1 \(rc 0\), 4 of 32 frames at 0x7ff10000, 2040 free refs; ref 0 -> frame 0x7ff02 dom 0 flags 0x1", log);
        AssertLogMatches(@"gnttab: self-test via ref \d+: copy rc 0 status 0 ok, end_access ok, copy after end status -\d+ \(refused: ok\)", log);
        AssertLog($"Hello from pvos (rv{Width})", log);
        Assert.EndsWith("pvos: shutting down: poweroff", log.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", log);
        Assert.Equal("s", (await FindAsync(id))!.State);
        await DestroyAsync(id);
    }

    [Fact]
    public async Task ExitRebootEndsInShutdownWithTheRebootReason()
    {
        var id = await BootAsync("reboot", "app=hello exit=reboot");
        var end = await WaitForEndAsync(id);
        Assert.Equal("s", end.State);
        Assert.Equal((int)ShutdownReason.Reboot, end.ShutdownReason);
        AssertLog("pvos: shutting down: reboot", await LogAsync(id));
        await DestroyAsync(id);
    }

    [Theory]
    [InlineData("fault", "fatal trap: load access fault (scause 5)")]
    [InlineData("store", "fatal trap: store access fault (scause 7)")]
    [InlineData("illegal", "fatal trap: illegal instruction (scause 2)")]
    [InlineData("panic", "panic requested by the crash app")]
    public async Task AFaultTheOsCannotHandleCrashesTheDomain(string how, string expected)
    {
        var id = await BootAsync("crash-" + how, $"app=crash crash={how}");
        var end = await WaitForEndAsync(id);
        var log = await LogAsync(id);
        Assert.Equal("c", end.State);
        Assert.Equal((int)ShutdownReason.Crash, end.ShutdownReason);
        AssertLog("pvos: CRASH: " + expected, log);
        Assert.Equal("c", (await FindAsync(id))!.State);
        await DestroyAsync(id);
    }

    [Fact]
    public async Task CpuBurnReportsProgressKeepsRunningAndCanBeDestroyed()
    {
        var id = await BootAsync("burn", "app=cpu-burn every=100000");
        Assert.True(await Eventually.HoldsAsync(async () => ProgressLines().Matches(await LogAsync(id)).Count >= 40), await LogAsync(id));

        // Nobody reads the console ring yet: once its 2 KiB are full, the OS waits 100 ms once, says so,
        // drops ring output from then on and keeps running (and printing through console_io).
        var log = await LogAsync(id);
        const string Stall = "pvos: console: ring not read for 100 ms; its output is dropped until the reader moves";
        Assert.Single(Regex.Matches(log, Regex.Escape(Stall)));
        Assert.True(log.IndexOf(Stall, StringComparison.Ordinal) < log.LastIndexOf("cpu-burn: ", StringComparison.Ordinal), log);
        var running = await FindAsync(id);
        Assert.Equal("r", running!.State);
        Assert.True(running.CpuTimeNs > 0);
        await DestroyAsync(id);
        Assert.Null(await FindAsync(id));
        var counts = ProgressLines().Matches(await LogAsync(id)).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(counts.Select((_, i) => (i + 1) * 100_000L), counts); // every line, in order, none lost
    }

    [Fact]
    public async Task CpuBurnWithSecondsStopsByItself()
    {
        var id = await BootAsync("burn-1s", "app=cpu-burn every=1000000 seconds=1");
        var end = await WaitForEndAsync(id);
        Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);
        AssertLogMatches(@"cpu-burn: done: \d+ iterations in 1 s", await LogAsync(id));
        await DestroyAsync(id);
    }

    [Theory]
    [InlineData(8192, 8192, "5M", 5120)]   // down
    [InlineData(6144, 12288, "10M", 10240)] // up, within maxmem
    public async Task TheBalloonReachesItsTargetAndListDomainsShowsIt(long memoryKiB, long maxKiB, string target, long expectKiB)
    {
        var id = await BootAsync("balloon", $"app=echo mem-target={target}", memoryKiB, maxKiB);
        try
        {
            Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(id))!.MemoryKiB == expectKiB), $"memory stays {(await FindAsync(id))!.MemoryKiB} KiB; log:\n{await LogAsync(id)}");
            // The guest prints its line after the reservation changed (a loaded host can keep it off the CPU in between).
            var line = $"balloon: target {expectKiB} KiB: {memoryKiB / 4} -> {expectKiB / 4} pages ({expectKiB} KiB); current_reservation {expectKiB / 4} pages";
            await Eventually.HoldsAsync(async () => (await LogAsync(id)).Contains(line, StringComparison.Ordinal));
            AssertLog(line, await LogAsync(id));
            Assert.Equal(maxKiB, (await FindAsync(id))!.MaxMemoryKiB);

            // The echo app then waits for console input without spinning: blocked, and (almost) no CPU time.
            Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(id))!.State == "b"));
            var before = (await FindAsync(id))!.CpuTimeNs;
            await Task.Delay(500);
            var used = (await FindAsync(id))!.CpuTimeNs - before;
            Assert.InRange(used, 0, 100_000_000); // far below the 500 ms that passed
        }
        finally
        {
            // Also when an assertion failed: the next case boots a domain of the same name.
            await DestroyAsync(id);
        }
    }

    [Fact]
    public async Task AnIdleEchoGuestIsTicklessAndTakesNoCpuAtAll()
    {
        // Tickless by default: echo blocks for a console event with no deadline, so no timer is armed
        // and nothing wakes the vCPU (a 100 Hz tick woke it a hundred times a second).
        var id = await BootAsync("idle", "app=echo");
        Assert.True(await Eventually.HoldsAsync(async () => (await LogAsync(id)).Contains("echo: type and it comes back", StringComparison.Ordinal)), await LogAsync(id));
        Assert.Contains("SBI timer, 0 Hz tick (tickless)", await LogAsync(id), StringComparison.Ordinal);
        Assert.True(await Eventually.HoldsAsync(async () => (await FindAsync(id))!.State == "b"));
        var before = (await FindAsync(id))!.CpuTimeNs;
        await Task.Delay(1000);
        var used = (await FindAsync(id))!.CpuTimeNs - before;
        Assert.True(used == 0, $"an idle guest ran {used} ns in a second; log:\n{await LogAsync(id)}");
        await DestroyAsync(id);
    }

    [Fact]
    public async Task MemTouchDirtiesPagesAtItsRate()
    {
        var id = await BootAsync("touch", "app=mem-touch mb=1 rate=1000 seconds=2");
        var end = await WaitForEndAsync(id);
        var log = await LogAsync(id);
        Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);
        AssertLog("mem-touch: dirtying 1000 pages/s over 1 MiB", log);
        var done = Regex.Match(log, @"mem-touch: done: (\d+) pages dirtied in 2 s");
        Assert.True(done.Success, log);
        // Every page due by the end (1000/s x 2 s), plus what fell due while a loaded host kept it off the CPU.
        Assert.InRange(long.Parse(done.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 2000, 2600);
        await DestroyAsync(id);
    }

    [Fact]
    public async Task AnUnknownAppIsACrashThatNamesTheApps()
    {
        var id = await BootAsync("unknown", "app=nope");
        var end = await WaitForEndAsync(id);
        Assert.Equal((int)ShutdownReason.Crash, end.ShutdownReason);
        AssertLog("pvos: unknown app 'nope' (hello, cpu-burn, mem-touch, mem-check, echo, crash, consback, xenbus-test, blk-verify, blk-bench, blkback-test, net-selftest, netfront-selftest, ping, udp-echo, udp-sink, udp-blast)", await LogAsync(id));
        await DestroyAsync(id);
    }

    [Fact]
    public async Task TheConsoleRingCarriesOutputOutAndInputInThroughABackend()
    {
        // A second pvos is the first one's console backend (app=consback, grant copies of grant ref 0).
        CreateDomain Spec(string name, int consoleBackend) =>
            new($"{name}-rv{Width}", isa, 1, 1, 8192, 8192, 256, 0, [ulong.MaxValue], consoleBackend, 0);
        var back = (await host.Control.CallAsync<DomainCreated>(Spec("consback", 0))).DomainId;
        var guest = (await host.Control.CallAsync<DomainCreated>(Spec("echo", back))).DomainId;
        await host.Control.CallAsync<OkReply>(new LoadKernel(guest, Image, null, "app=echo"));
        // Nobody reads the backend's own console ring: console_io only, or its ring-stall notice can land
        // between the lines it serves once its boot output passes the ring's 2 KiB.
        await host.Control.CallAsync<OkReply>(new LoadKernel(back, Image, null, $"app=consback dom={guest} input=ping console=xen"));
        await host.Control.CallAsync<OkReply>(new DomainCommand(back, DomainOperation.Unpause));
        Assert.True(await Eventually.HoldsAsync(async () => (await LogAsync(back)).Contains($"consback: d{guest} console port 1 bound to our port", StringComparison.Ordinal)), await LogAsync(back));
        await host.Control.CallAsync<OkReply>(new DomainCommand(guest, DomainOperation.Unpause));

        // The backend types "ping" once the prompt shows, and Ctrl-D once "ping" came back: echo powers off.
        var end = await WaitForEndAsync(guest);
        Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);
        Assert.True(await Eventually.HoldsAsync(async () => (await LogAsync(back)).Contains($"[d{guest}] pvos: shutting down: poweroff", StringComparison.Ordinal)), await LogAsync(back));
        var served = await LogAsync(back);
        AssertLog($"[d{guest}] pvos: Disagg PV guest OS, rv{Width}, on Xen 4.17-disagg", served);
        // Only the served lines: the backend's own console notices (its ring has no reader) may fall between them.
        var servedLines = string.Join('\n', served.Split('\n').Where(l => l.StartsWith($"[d{guest}] ", StringComparison.Ordinal)));
        AssertLog($"[d{guest}] echo: type and it comes back; Ctrl-D powers off\n[d{guest}] ping\n[d{guest}] \n[d{guest}] echo: end of input", servedLines);

        // Once it saw its reader, the guest stopped mirroring to console_io; nothing was dropped.
        var own = await LogAsync(guest);
        AssertLog($"pvos: Disagg PV guest OS, rv{Width}", own); // before the ring existed: console_io
        Assert.DoesNotContain("ping", own, StringComparison.Ordinal);
        Assert.DoesNotContain("end of input", own, StringComparison.Ordinal);
        Assert.DoesNotContain("ring not read", own, StringComparison.Ordinal);
        await DestroyAsync(guest);
        await DestroyAsync(back);
    }

    /// <summary>Contains, with the whole log in the failure message.</summary>
    private static void AssertLog(string expected, string log) =>
        Assert.True(log.Contains(expected, StringComparison.Ordinal), $"not found: {expected}\nin the guest's log:\n{log}");

    private static void AssertLogMatches(string pattern, string log) =>
        Assert.True(Regex.IsMatch(log, pattern), $"no match for: {pattern}\nin the guest's log:\n{log}");

    [GeneratedRegex(@"cpu-burn: (\d+) iterations, ")]
    private static partial Regex ProgressLines();
}

public sealed class PvGuestRv64Tests(KernelHost host) : PvGuestTests(host, GuestIsa.Rv64), IClassFixture<KernelHost>;

public sealed class PvGuestRv32Tests(KernelHost host) : PvGuestTests(host, GuestIsa.Rv32), IClassFixture<KernelHost>;

/// <summary>The same guests with every vCPU on the interpreter, the reference engine: each must behave exactly as translated.</summary>
public sealed class PvGuestRv64InterpretTests(InterpretingKernelHost host) : PvGuestTests(host, GuestIsa.Rv64), IClassFixture<InterpretingKernelHost>;

public sealed class PvGuestRv32InterpretTests(InterpretingKernelHost host) : PvGuestTests(host, GuestIsa.Rv32), IClassFixture<InterpretingKernelHost>;
