using System.Globalization;
using System.Text.Json;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Debian's unmodified Linux through the toolstack, as an xl user runs it: `disagg create` of a type = "hvm"
/// config starts its qemu-dm as a supervised service domain of its own, the shell on ttyS0 answers what is
/// typed through `disagg console`, a SIGKILLed qemu-dm (`disagg service kill`) is restarted and the shell goes
/// on, `save` and `restore` are a pause for the shell and its mounted virtio disk, `reboot` is a fresh domain with a
/// fresh qemu-dm (on_reboot = restart), `poweroff` ends it (on_poweroff = destroy) and its device model with it.
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
        using var origin = new TestHost("none", "memory = 512M\npcpus = 2");
        var keyFile = Path.Combine(origin.GuestDir, "migration.key");
        File.WriteAllText(keyFile, "hvm-migration-test-key-0123456789abcdef\n");
        using var target = new TestHost("none", $"memory = 512M\npcpus = 2\nlisten = 127.0.0.1:0\nmigration_key_file = {keyFile}");
        var host = origin;
        try
        {
            var disk = Path.Combine(host.GuestDir, "data.img");
            var mkfs = HostProcess.Run("mke2fs", ["-q", "-F", "-t", "ext4", disk, "16M"], TestHost.Bound);
            Assert.True(mkfs.ExitCode == 0, $"mke2fs: {mkfs}");
            var cfg = Path.Combine(host.GuestDir, "linux-hvm.cfg");
            File.WriteAllText(cfg, $"""
                name = "{Name}"
                type = "hvm"
                kernel = "{LinuxGuestFiles.Kernel}"
                ramdisk = "{LinuxGuestFiles.Initramfs}"
                extra = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_SHELL=ttyS0"
                vcpus = 2
                memory = 128
                disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]
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

            var restored = SavedAndRestored(host, first);
            restored = Migrated(host, target, keyFile, restored);
            host = target;

            // reboot: on_reboot = restart makes a new domain with a new qemu-dm; the old one is gone.
            var shells = Count(host.ConsoleLog(Name), ShellMarker);
            TypeOnce(host, "reboot -f", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is { } d && TestHost.Int(d, "id") != restored, CommandSeconds), "not restarted");
            var second = DomainId(host);
            Assert.True(Eventually.Holds(() => ServiceNames(host).Contains($"qemu-dm-{second}") && !ServiceNames(host).Contains($"qemu-dm-{restored}"), CommandSeconds), host.MustRun("service", "list").StdOut);
            Assert.True(Eventually.Holds(() => Count(host.ConsoleLog(Name), ShellMarker) == shells + 1, BootSeconds), "no second shell: " + host.ConsoleLog(Name));

            // poweroff: on_poweroff = destroy; the device model goes with the domain.
            TypeOnce(host, "poweroff -f", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is null, CommandSeconds), "still there after poweroff");
            Assert.DoesNotContain(ServiceNames(host), n => n.StartsWith("qemu-dm-", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(origin.ConsoleLog(Name));
            output.WriteLine(target.ConsoleLog(Name));
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

    /// <summary>
    /// docs/SAVE-RESTORE.md, "HVM": with a mounted virtio disk holding a synced file, `disagg save` captures the
    /// whole machine (no guest cooperation) and its qemu-dm's device state, the domain and its qemu-dm go; `disagg
    /// restore` makes a new domain with a new qemu-dm that takes the device state back. The shell answers, the
    /// disk reads the file written before and takes a new one (synced, caches dropped, read back from the disk),
    /// and /proc/uptime goes on from where it was. Returns the restored domain's id.
    /// </summary>
    private int SavedAndRestored(TestHost host, int before)
    {
        Typed(host, "mkdir -p /mnt && mount /dev/vda /mnt && echo disk-$((3*5)) > /mnt/a && sync && echo mounted-$((1+1))", "mounted-2");
        Typed(host, "echo up-$(cut -d. -f1 /proc/uptime)-end$((2*3))", "-end6");
        var upBefore = Uptime(host.ConsoleLog(Name));

        var image = Path.Combine(host.GuestDir, "linux-hvm.img");
        var saved = host.Json("save", Name, image);
        Assert.Null(host.Domain(Name));
        Assert.DoesNotContain($"qemu-dm-{before}", ServiceNames(host));
        var restoredReply = host.Json("restore", image);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"figure: hvm save {saved.GetProperty("elapsed_ms")} ms, restore {restoredReply.GetProperty("elapsed_ms")} ms, image {new FileInfo(image).Length >> 20} MiB (128 MiB Linux guest)"));
        var after = DomainId(host);
        Assert.NotEqual(before, after);
        Assert.Contains($"qemu-dm-{after}", ServiceNames(host));

        Typed(host, "echo restored-$((40+2))", "restored-42");
        Typed(host, "echo fresh-$((4*5)) > /mnt/b && sync && echo 3 > /proc/sys/vm/drop_caches && cat /mnt/a /mnt/b", "fresh-20");
        Assert.Contains("disk-15", host.ConsoleLog(Name), StringComparison.Ordinal);
        Typed(host, "echo up-$(cut -d. -f1 /proc/uptime)-end$((2*4))", "-end8");
        Assert.True(Uptime(host.ConsoleLog(Name)) >= upBefore && upBefore > 0, $"uptime did not go on from {upBefore} s: " + host.ConsoleLog(Name));
        Assert.DoesNotContain("I/O error", host.ConsoleLog(Name), StringComparison.Ordinal);
        return after;
    }

    /// <summary>
    /// `disagg migrate` of the HVM guest to a second host on this machine (the disk on storage both see): paused, its
    /// memory, machine state and qemu-dm's state in the stream, its qemu-dm here flushed and closed before the target's
    /// opens the disk. There the shell answers, the disk takes and reads back a new file, and the source has nothing
    /// of it left. Returns its domain id on the target.
    /// </summary>
    private int Migrated(TestHost from, TestHost to, string keyFile, int before)
    {
        string? endpoint = null;
        Assert.True(
            Eventually.Holds(() => (endpoint = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(to.Dir, "disagg.log")), @"migration: listening on (127\.0\.0\.1:[0-9]+)") is { Success: true } m ? m.Groups[1].Value : null) is not null),
            "the target does not listen");
        var r = HostProcess.Run(RepoPaths.Program("disagg"), ["migrate", Name, endpoint!, "--key-file", keyFile, "--json", "--state-dir", from.Dir], TimeSpan.FromSeconds(BootSeconds));
        Assert.True(r.ExitCode == 0, r.ToString());
        output.WriteLine("figure: hvm migrate " + r.StdOut.Trim());
        Assert.Null(from.Domain(Name));
        Assert.DoesNotContain(ServiceNames(from), n => n.StartsWith("qemu-dm-", StringComparison.Ordinal));
        var there = DomainId(to);
        Assert.Contains($"qemu-dm-{there}", ServiceNames(to));

        Typed(to, "echo migrated-$((40+2))", "migrated-42");
        Typed(to, "echo moved-$((5*5)) > /mnt/c && sync && echo 3 > /proc/sys/vm/drop_caches && cat /mnt/a /mnt/c", "moved-25");
        Assert.Contains("disk-15", to.ConsoleLog(Name), StringComparison.Ordinal);
        Assert.DoesNotContain("I/O error", to.ConsoleLog(Name), StringComparison.Ordinal);
        Assert.NotEqual(-1, before);
        return there;
    }

    /// <summary>The last `up-N-end` the guest printed (the typed line has no digits there).</summary>
    private static int Uptime(string log)
    {
        var m = System.Text.RegularExpressions.Regex.Matches(log, @"up-(\d+)-end\d");
        return m.Count == 0 ? -1 : int.Parse(m[^1].Groups[1].Value, CultureInfo.InvariantCulture);
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

    private static int Count(string text, string what) => GuestConsole.Count(text, what);

    private static void Typed(TestHost host, string line, string answer) =>
        GuestConsole.Typed(host, Name, line, log => log.Contains(answer, StringComparison.Ordinal), CommandSeconds);

    private static void TypeOnce(TestHost host, string line, bool domainEnds = false) => GuestConsole.TypeOnce(host, Name, line, domainEnds);
}
