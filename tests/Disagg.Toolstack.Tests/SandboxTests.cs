using Disagg.TestSupport;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// The service domains' sandbox (services/toolstack/Sandbox), on a real host of xenstored, netback and blkback: each
/// runs with no-new-privs, a seccomp filter and its own mount namespace; asked through the test-only probe (a host
/// started for tests), it cannot open a file outside its state dir nor exec a program, while the same probe may use
/// its own state dir; a system call outside its allow-list kills it, and the supervisor restarts it and says why.
/// It holds no descriptor it does not use, its state dir is 0700, and the host's sockets are 0600. Each runs in a
/// PID namespace of its own below its launcher, and what the supervisor sends (SIGSTOP, SIGCONT, SIGKILL) reaches
/// the service itself; netback creates its TAP uplink under the sandbox (keeping CAP_NET_ADMIN, nothing else).
/// </summary>
public sealed class SandboxTests : IClassFixture<SandboxTests.SandboxedHost>
{
    private static readonly string[] Services = ["xenstored", "netback", "blkback"];
    private readonly TestHost _host;

    public SandboxTests(SandboxedHost fixture) => _host = fixture.Host;

    [Fact]
    public void EveryServiceRunsWithNoNewPrivsSeccompAndItsOwnMountNamespace()
    {
        var ourMounts = new FileInfo("/proc/self/ns/mnt").LinkTarget;
        foreach (var name in Services)
        {
            var pid = Pid(name);
            var status = File.ReadAllText($"/proc/{pid}/status");
            Assert.Contains("NoNewPrivs:\t1", status, StringComparison.Ordinal);
            Assert.Contains("Seccomp:\t2", status, StringComparison.Ordinal); // 2: a filter
            // as root, every capability dropped; netback keeps NET_ADMIN (bit 12) for its uplink's TAP
            Assert.Contains(name == "netback" ? "CapEff:\t0000000000001000" : "CapEff:\t0000000000000000", status, StringComparison.Ordinal);
            Assert.NotEqual(ourMounts, new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget);
            Assert.Contains($"disagg-{name}", File.ReadAllText($"/proc/{pid}/cmdline"), StringComparison.Ordinal); // the launcher exec'd it: same pid
        }
    }

    [Fact]
    public void EveryServiceRunsAsPid2OfItsOwnPidNamespaceAndSeesNoHostProcess()
    {
        var ourPids = new FileInfo("/proc/self/ns/pid").LinkTarget;
        foreach (var name in Services)
        {
            var pid = Pid(name);
            Assert.NotEqual(ourPids, new FileInfo($"/proc/{pid}/ns/pid").LinkTarget);
            var nspid = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
            Assert.Equal($"NSpid:\t{pid}\t2", nspid); // the namespace's init (1) waits for it
            // Its /proc (seen through its root) is its namespace's: init and itself.
            var seen = Directory.GetDirectories($"/proc/{pid}/root/proc").Select(d => Path.GetFileName(d)).Where(d => d.All(char.IsAsciiDigit)).Order().ToList();
            Assert.Equal<string>(["1", "2"], seen);
        }
    }

    [Fact]
    public void StopContAndKillReachTheServiceInsideItsPidNamespace()
    {
        var pid = Pid("xenstored");
        var restarts = TestHost.Int(_host.Service("xenstored"), "restarts");
        _host.MustRun("service", "stop", "xenstored");
        Assert.True(Eventually.Holds(() => State(pid) == 'T'), $"state {State(pid)}");
        _host.MustRun("service", "cont", "xenstored");
        Assert.True(Eventually.Holds(() => State(pid) != 'T'), $"state {State(pid)}");
        Assert.Contains($"pid {pid}", _host.MustRun("service", "kill", "xenstored").StdOut, StringComparison.Ordinal);
        Assert.True(
            Eventually.Holds(() => _host.Service("xenstored") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "restarts") == restarts + 1, 60),
            _host.Service("xenstored").ToString());
        Assert.Contains("SIGKILL", _host.Service("xenstored").GetProperty("last_exit").GetString(), StringComparison.Ordinal); // its status came up through init and the launcher
        Assert.Equal("NSpid:\t" + Pid("xenstored") + "\t2", File.ReadLines($"/proc/{Pid("xenstored")}/status").Single(l => l.StartsWith("NSpid:", StringComparison.Ordinal)));
    }

    [Fact]
    public void AServiceDiesWithItsLauncher()
    {
        var pid = Pid("blkback");
        var init = PPid(pid);
        var launcher = PPid(init);
        Assert.Equal("disagg-sandbox", File.ReadAllText($"/proc/{launcher}/comm").TrimEnd('\n'));
        Assert.True(Disagg.Interop.ProcessSignals.Send(launcher, Disagg.Interop.ProcessSignals.Sigkill));
        Assert.True(Eventually.Holds(() => State(pid) is null or 'Z'), $"blkback (pid {pid}) outlived its launcher");
        Assert.True(Eventually.Holds(() => _host.Service("blkback") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "pid") != pid, 60), _host.Service("blkback").ToString());
    }

    [Fact]
    public void NetbackCreatesItsTapUplinkInsideTheSandbox()
    {
        Assert.True(Eventually.Holds(() => Directory.Exists($"/sys/class/net/{SandboxedHost.Tap}")), $"no {SandboxedHost.Tap}: {File.ReadAllText(Path.Combine(_host.Dir, "netback.log"))}");
    }

    [Fact]
    public void AnExtraServiceThatIsNoServiceProgramRunsUnsandboxedAndTheLogSaysSo()
    {
        Assert.Contains("service probe runs unsandboxed", File.ReadAllText(Path.Combine(_host.Dir, "disagg.log")), StringComparison.Ordinal);
        Assert.Contains("Seccomp:\t0", File.ReadAllText($"/proc/{Pid("probe")}/status"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xenstored")]
    [InlineData("netback")]
    public void AServiceCannotReadOutsideItsStateDirNorExec(string name)
    {
        var secret = Path.Combine(_host.Dir, "secret-" + name);
        File.WriteAllText(secret, "not for services\n");
        Assert.Equal("allowed", Probe(name, $"create {Path.Combine(_host.Dir, name, "own-file")}"));
        Assert.StartsWith("refused", Probe(name, $"open {secret}"), StringComparison.Ordinal);
        Assert.StartsWith("refused", Probe(name, $"create {Path.Combine(_host.Dir, name + "-escaped")}"), StringComparison.Ordinal);
        Assert.StartsWith("refused", Probe(name, "exec /bin/true"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_host.Dir, name + "-escaped")));
    }

    [Fact]
    public void BlkbackReadsImagesWhereverTheyAreButCreatesAndExecsNothingOutsideItsStateDir()
    {
        Assert.Equal("allowed", Probe("blkback", $"create {Path.Combine(_host.Dir, "blkback", "own-file")}"));
        Assert.StartsWith("refused", Probe("blkback", $"create {Path.Combine(_host.Dir, "blkback-escaped")}"), StringComparison.Ordinal);
        Assert.StartsWith("refused", Probe("blkback", "exec /bin/true"), StringComparison.Ordinal);
        Assert.StartsWith("refused", Probe("blkback", $"exec {RepoPaths.Program("disagg")}"), StringComparison.Ordinal);
    }

    [Fact]
    public void ACallOutsideTheAllowListKillsTheServiceAndTheSupervisorRestartsIt()
    {
        var before = _host.Service("netback");
        var pid = TestHost.Int(before, "pid");
        var restarts = TestHost.Int(before, "restarts");
        File.WriteAllText(Path.Combine(_host.Dir, "netback", "sandbox-probe"), "forbidden-call\n");
        Assert.True(Disagg.Interop.ProcessSignals.Send(pid, 10));
        Assert.True(
            Eventually.Holds(() => _host.Service("netback") is var s && s.GetProperty("state").GetString() == "running" && TestHost.Int(s, "restarts") == restarts + 1 && TestHost.Int(s, "pid") != pid, 60),
            _host.Service("netback").ToString());
        Assert.Contains("SIGSYS", _host.Service("netback").GetProperty("last_exit").GetString(), StringComparison.Ordinal);
        Assert.True(Eventually.Holds(() => File.ReadAllText(Path.Combine(_host.Dir, "disagg.log")).Contains("SIGSYS", StringComparison.Ordinal)));
        Assert.DoesNotContain("sandbox probe: forbidden-call: allowed", File.ReadAllText(Path.Combine(_host.Dir, "netback.log")), StringComparison.Ordinal);
    }

    [Fact]
    public void AServiceHoldsOnlyDescriptorsItUses()
    {
        foreach (var name in Services)
        {
            var pid = Pid(name);
            var own = Path.Combine(_host.Dir, name) + "/";
            foreach (var fd in Directory.GetFiles($"/proc/{pid}/fd"))
            {
                string? target;
                try
                {
                    target = new FileInfo(fd).LinkTarget;
                }
                catch (IOException)
                {
                    continue; // closed while we looked
                }

                Assert.NotNull(target);
                var expected = target.StartsWith("pipe:", StringComparison.Ordinal) // stdin, stdout, stderr: the supervisor's
                    || target.StartsWith("socket:", StringComparison.Ordinal) // the kernel, xenstored, its clients
                    || target.StartsWith("anon_inode:", StringComparison.Ordinal) // eventfd, epoll, timerfd
                    || target.StartsWith("/memfd:", StringComparison.Ordinal) // its service channel's pages and grant maps
                    || target is "/dev/null" or "/dev/urandom" or "/dev/net/tun"
                    || target.StartsWith(own, StringComparison.Ordinal)
                    || (target.EndsWith(".dll", StringComparison.Ordinal) && ReadOnly(pid, fd)); // a JIT build keeps its assemblies and the runtime's open (mapped)
                Assert.True(expected, $"{name} (pid {pid}) holds {fd} -> {target}");
            }
        }
    }

    [Fact]
    public void StateDirsAre0700AndSockets0600()
    {
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        foreach (var name in Services)
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(Path.Combine(_host.Dir, name)));
        }

        foreach (var socket in new[] { "disagg.sock", "kernel.sock", "xenstored.sock" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_host.Dir, socket)));
        }
    }

    /// <summary>The descriptor was opened for reading only (fdinfo's flags, octal: O_ACCMODE is 0).</summary>
    private static bool ReadOnly(int pid, string fd)
    {
        var flags = File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:", StringComparison.Ordinal));
        return (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & 3) == 0;
    }

    private int Pid(string name) => TestHost.Int(_host.Service(name), "pid");

    /// <summary>The process's state letter (R, S, T, Z, ...), null when it is gone.</summary>
    private static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int PPid(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("PPid:", StringComparison.Ordinal))["PPid:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Asks <paramref name="name"/>'s probe to do <paramref name="request"/>; returns what it said ("allowed" or "refused (...)").</summary>
    private string Probe(string name, string request)
    {
        File.WriteAllText(Path.Combine(_host.Dir, name, "sandbox-probe"), request + "\n");
        var log = Path.Combine(_host.Dir, name + ".log");
        var prefix = $"sandbox probe: {request}: ";
        var seen = File.ReadAllLines(log).Count(l => l.Contains(prefix, StringComparison.Ordinal));
        Assert.True(Disagg.Interop.ProcessSignals.Send(Pid(name), 10)); // SIGUSR1
        string? answer = null;
        Assert.True(
            Eventually.Holds(() => (answer = File.ReadAllLines(log).Where(l => l.Contains(prefix, StringComparison.Ordinal)).Skip(seen).FirstOrDefault()) is not null, 30),
            $"{name} did not answer '{request}': {File.ReadAllText(log)}");
        return answer![(answer!.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length)..];
    }

    /// <summary>One host for the class: three services started once, netback with a TAP uplink (a name of its own: other runs share the host's interfaces).</summary>
    public sealed class SandboxedHost : IDisposable
    {
        public static readonly string Tap = "dsb" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(5));

        public TestHost Host { get; } = new("xenstored,netback,blkback", $"uplink.xenbr0 = {Tap}");

        public void Dispose()
        {
            Host.Dispose();
            // Persistent by design (it outlives a killed netback); a planned stop removes it, and this makes sure.
            HostProcess.Run("/usr/sbin/ip", ["link", "del", Tap], TimeSpan.FromSeconds(10));
        }
    }
}
