using System.Globalization;
using System.Text.Json;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Debian's unmodified Linux through the toolstack, as an xl user runs it: `disagg create` of a type = "hvm"
/// config starts its qemu-dm as a supervised service domain of its own, the shell on ttyS0 answers what is
/// typed through `disagg console`, a SIGKILLed qemu-dm (`disagg service kill`) is restarted and the shell goes
/// on, `reboot` is a fresh domain with a fresh qemu-dm (on_reboot = restart), `poweroff` ends it (on_poweroff =
/// destroy) and its device model with it.
/// </summary>
public sealed class HvmLinuxGuestTests(ITestOutputHelper output)
{
    private const string Name = "linux-hvm";
    private const string ShellMarker = "disagg-init: shell on /dev/ttyS0";

    /// <summary>A boot is a few billion guest instructions; under a loaded 2-core host that takes minutes, not seconds.</summary>
    private const double BootSeconds = 360;
    private const double CommandSeconds = 90;

    [LinuxGuestFact]
    public void LinuxBootsToAShellOnDisaggConsoleSurvivesAQemuDmKillRebootsAndPowersOff()
    {
        using var host = new TestHost("none", "memory = 512M\npcpus = 2");
        try
        {
            var cfg = Path.Combine(host.GuestDir, "linux-hvm.cfg");
            File.WriteAllText(cfg, $"""
                name = "{Name}"
                type = "hvm"
                kernel = "{LinuxGuestFiles.Kernel}"
                ramdisk = "{LinuxGuestFiles.Initramfs}"
                extra = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_SHELL=ttyS0"
                vcpus = 2
                memory = 128
                on_poweroff = "destroy"
                on_reboot = "restart"
                """);
            host.MustRun("create", cfg);
            var first = DomainId(host);
            var dm = host.Service($"qemu-dm-{first}");
            Assert.Equal("running", dm.GetProperty("state").GetString());
            Assert.NotEqual(first, TestHost.Int(dm, "domain_id")); // a service domain of its own

            Assert.True(Eventually.Holds(() => host.ConsoleLog(Name).Contains(ShellMarker, StringComparison.Ordinal), BootSeconds), "no shell: " + host.ConsoleLog(Name));
            Typed(host, "echo typed-$((6*7))", "typed-42");

            // SIGKILL the device model while the shell runs: the supervisor starts another, the guest only paused.
            var pid = TestHost.Int(dm, "pid");
            host.MustRun("service", "kill", $"qemu-dm-{first}");
            Assert.True(Eventually.Holds(() => Restarted(host, $"qemu-dm-{first}", pid), CommandSeconds), host.MustRun("service", "list").StdOut);
            Typed(host, "echo after-kill-$((40+2))", "after-kill-42");

            // reboot: on_reboot = restart makes a new domain with a new qemu-dm; the old one is gone.
            TypeOnce(host, "reboot -f", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is { } d && TestHost.Int(d, "id") != first, CommandSeconds), "not restarted");
            var second = DomainId(host);
            Assert.True(Eventually.Holds(() => ServiceNames(host).Contains($"qemu-dm-{second}") && !ServiceNames(host).Contains($"qemu-dm-{first}"), CommandSeconds), host.MustRun("service", "list").StdOut);
            Assert.True(Eventually.Holds(() => Count(host.ConsoleLog(Name), ShellMarker) == 2, BootSeconds), "no second shell: " + host.ConsoleLog(Name));

            // poweroff: on_poweroff = destroy; the device model goes with the domain.
            TypeOnce(host, "poweroff -f", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is null, CommandSeconds), "still there after poweroff");
            Assert.DoesNotContain(ServiceNames(host), n => n.StartsWith("qemu-dm-", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(host.ConsoleLog(Name));
        }
    }

    /// <summary>
    /// A disk line becomes qemu-dm's --disk (absolute path, format, ro): Linux reads the image's first bytes from /dev/vda,
    /// through a qemu-dm that runs sandboxed (its sandbox lets it read that image and nothing else of the guest dir).
    /// </summary>
    [LinuxGuestFact]
    public void AnHvmGuestsDiskIsServedByItsQemuDm()
    {
        using var host = new TestHost("none", "memory = 512M\npcpus = 2");
        const string marker = "disagg-hvm-disk-marker-7";
        var image = Path.Combine(host.GuestDir, "data.img");
        var bytes = new byte[1 << 20];
        System.Text.Encoding.ASCII.GetBytes(marker).CopyTo(bytes, 0);
        File.WriteAllBytes(image, bytes);
        var cfg = Path.Combine(host.GuestDir, "disk-hvm.cfg");
        File.WriteAllText(cfg, $"""
            name = "{Name}"
            type = "hvm"
            kernel = "{LinuxGuestFiles.Kernel}"
            ramdisk = "{LinuxGuestFiles.Initramfs}"
            cmdline = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_RUN=\"head -c {marker.Length} /dev/vda; echo\""
            memory = 128
            disk = [ 'format=raw, vdev=xvda, access=ro, target={image}' ]
            on_poweroff = "preserve"
            """);
        try
        {
            host.MustRun("create", cfg);
            var pid = TestHost.Int(host.Service($"qemu-dm-{DomainId(host)}"), "pid");
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            Assert.Contains($"{image},format=raw,ro", args);
            // Sandboxed as the host's services are: seccomp (its own allow-list), no-new-privs, a PID namespace of its own.
            var status = File.ReadAllText($"/proc/{pid}/status");
            Assert.Contains("NoNewPrivs:\t1", status, StringComparison.Ordinal);
            Assert.Contains("Seccomp:\t2", status, StringComparison.Ordinal);
            Assert.Contains($"NSpid:\t{pid}\t2", status, StringComparison.Ordinal);
            Assert.True(Eventually.Holds(() => host.ConsoleLog(Name).Contains("disagg-run: " + marker, StringComparison.Ordinal), BootSeconds), "not read: " + host.ConsoleLog(Name));
            Assert.True(Eventually.Holds(() => host.Domain(Name) is { } d && d.GetProperty("state").GetString()!.Contains('s', StringComparison.Ordinal), CommandSeconds), "did not power off");
            host.MustRun("destroy", Name);
            Assert.DoesNotContain(ServiceNames(host), n => n.StartsWith("qemu-dm-", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(host.ConsoleLog(Name));
        }
    }

    /// <summary>
    /// The issue's network check: the HVM guest's virtio-net NIC is a vif of its qemu-dm on the host's netback,
    /// the same bridge a pvos guest's netfront is on; Linux pings the pvos guest. Destroying the HVM guest ends
    /// its qemu-dm's vif on netback too (nothing of it left in xenstore).
    /// </summary>
    [LinuxGuestFact]
    public void AnHvmGuestPingsAPvosGuestThroughNetback()
    {
        using var host = new TestHost("xenstored,netback", "memory = 512M\npcpus = 2");
        try
        {
            var peer = Path.Combine(host.GuestDir, "peer.cfg");
            File.WriteAllText(peer, $"""
                name = "peer"
                kernel = "{Path.Combine(RepoPaths.Guests, "rv64", "pvos.elf")}"
                memory = 8
                cmdline = "app=udp-echo port=7 count=1000000"
                vif = [ 'mac=00:16:3e:00:09:02, bridge=xenbr0, ip=10.9.0.2/24' ]
                """);
            host.MustRun("create", peer);
            Assert.True(Eventually.Holds(() => host.ConsoleLog("peer").Contains("udp-echo: listening on 10.9.0.2:7", StringComparison.Ordinal), CommandSeconds), host.ConsoleLog("peer"));

            var cfg = Path.Combine(host.GuestDir, "net-hvm.cfg");
            File.WriteAllText(cfg, $"""
                name = "{Name}"
                type = "hvm"
                kernel = "{LinuxGuestFiles.Kernel}"
                ramdisk = "{LinuxGuestFiles.Initramfs}"
                cmdline = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_RUN=\"ip link set eth0 up; ip addr add 10.9.0.1/24 dev eth0; ping -c 3 -W 5 10.9.0.2\""
                memory = 128
                vif = [ 'mac=00:16:3e:00:09:01, bridge=xenbr0' ]
                on_poweroff = "preserve"
                """);
            host.MustRun("create", cfg);
            var dm = host.Service($"qemu-dm-{DomainId(host)}");
            var dmDomain = TestHost.Int(dm, "domain_id");
            var args = File.ReadAllText($"/proc/{TestHost.Int(dm, "pid")}/cmdline").Split('\0');
            Assert.Contains("--xenstore", args);
            Assert.Contains(args, a => a.StartsWith("mac=00:16:3e:00:09:01,bridge=xenbr0,backend=", StringComparison.Ordinal));
            Assert.True(
                Eventually.Holds(() => System.Text.RegularExpressions.Regex.IsMatch(host.ConsoleLog(Name), @"disagg-run: 3 packets transmitted, [1-3] packets received"), BootSeconds),
                "no replies: " + host.ConsoleLog(Name));
            Assert.Contains("disagg-run: 64 bytes from 10.9.0.2", host.ConsoleLog(Name), StringComparison.Ordinal);

            host.MustRun("destroy", Name);
            var netback = TestHost.Int(host.Service("netback"), "domain_id");
            Assert.True(
                Eventually.Holds(() => host.XsRead($"/local/domain/{netback}/backend/vif/{dmDomain}") is null, CommandSeconds),
                "the HVM guest's vif is still on netback after its destroy");
        }
        finally
        {
            output.WriteLine(host.ConsoleLog(Name));
        }
    }

    private static int DomainId(TestHost host) => TestHost.Int(host.Domain(Name) ?? throw new InvalidOperationException($"{Name} is not running"), "id");

    private static HashSet<string> ServiceNames(TestHost host) =>
        [.. host.Json("service", "list").EnumerateArray().Select(s => s.GetProperty("name").GetString()!)];

    private static bool Restarted(TestHost host, string service, int oldPid)
    {
        var row = host.Service(service);
        return row.GetProperty("state").GetString() == "running" && TestHost.Int(row, "restarts") >= 1
            && row.GetProperty("pid").ValueKind == JsonValueKind.Number && TestHost.Int(row, "pid") != oldPid;
    }

    private static int Count(string text, string what)
    {
        var n = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    /// <summary>Types a line through `disagg console` until its answer shows in the console log (a line typed while qemu-dm restarts is dropped).</summary>
    private static void Typed(TestHost host, string line, string answer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(CommandSeconds);
        do
        {
            TypeOnce(host, line);
            if (Eventually.Holds(() => host.ConsoleLog(Name).Contains(answer, StringComparison.Ordinal), 15))
            {
                return;
            }
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"'{line}' never answered '{answer}': " + host.ConsoleLog(Name));
    }

    /// <summary>One `disagg console NAME` session that types the line and Enter, stays two seconds and ends with its input.</summary>
    private static void TypeOnce(TestHost host, string line, bool domainEnds = false)
    {
        var r = HostProcess.Run(
            "sh",
            ["-c", "(printf '%s\\r' \"$1\"; sleep 2) | \"$0\" console \"$2\" --state-dir \"$3\"", RepoPaths.Program("disagg"), line, Name, host.Dir],
            TestHost.Bound);
        Assert.True(r.ExitCode == 0 || domainEnds, string.Create(CultureInfo.InvariantCulture, $"disagg console: {r}")); // the domain going ends a console with an error
    }
}
