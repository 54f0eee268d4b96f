using Disagg.TestSupport.UBoot;
using Xunit.Abstractions;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Debian's unmodified S-mode U-Boot (u-boot-qemu's qemu-riscv64_smode, the raw u-boot.bin) as an HVM guest
/// through the toolstack, as QEMU virt runs it after OpenSBI: its autoboot finds nothing to boot and it reaches its
/// prompt on the UART, `version` prints, `virtio scan` and `virtio info` list the disk qemu-dm serves with its size, `reset` is a new domain
/// with a new qemu-dm (on_reboot = restart), `poweroff` ends it and its device model (on_poweroff = destroy).
/// </summary>
public sealed class HvmUBootTests(ITestOutputHelper output)
{
    private const string Name = "uboot-hvm";
    private const string Banner = "U-Boot 20";
    private const string Prompt = "=> ";

    /// <summary>U-Boot runs a few hundred million instructions and polls the UART through qemu-dm; room for a loaded host.</summary>
    private const double BootSeconds = 180;
    private const double CommandSeconds = 90;

    [UBootFact]
    public void DebiansUBootReachesItsPromptListsTheVirtioDiskResetsAndPowersOff()
    {
        using var host = new TestHost("none", "memory = 512M\npcpus = 2");
        var disk = Path.Combine(host.GuestDir, "disk.img");
        File.WriteAllBytes(disk, new byte[12 << 20]); // 24576 sectors
        var cfg = Path.Combine(host.GuestDir, "uboot-hvm.cfg");
        File.WriteAllText(cfg, $"""
            name = "{Name}"
            type = "hvm"
            kernel = "{UBootFiles.Raw}"
            memory = 64
            disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]
            on_poweroff = "destroy"
            on_reboot = "restart"
            """);
        try
        {
            host.MustRun("create", cfg);
            var first = DomainId(host);
            Assert.True(Eventually.Holds(() => host.ConsoleLog(Name).Contains(Banner, StringComparison.Ordinal), BootSeconds), "no banner: " + host.ConsoleLog(Name));
            AtThePrompt(host);

            const string Commands = "version; virtio scan; virtio info";
            GuestConsole.Typed(host, Name, Commands, log => After(log, "=> " + Commands).Contains("(24576 x 512)", StringComparison.Ordinal), CommandSeconds);
            var info = After(host.ConsoleLog(Name), "=> " + Commands);
            Assert.Contains(Banner, info, StringComparison.Ordinal); // version
            Assert.Contains("Device 0: ", info, StringComparison.Ordinal);
            Assert.Contains("Type: Hard Disk", info, StringComparison.Ordinal);
            Assert.Contains("Capacity: 12.0 MB", info, StringComparison.Ordinal);

            // reset: on_reboot = restart makes a new domain with a new qemu-dm, and U-Boot starts again.
            GuestConsole.TypeOnce(host, Name, "reset", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is { } d && TestHost.Int(d, "id") != first, CommandSeconds), "not restarted: " + host.ConsoleLog(Name));
            var second = DomainId(host);
            Assert.True(Eventually.Holds(() => ServiceNames(host).Contains($"qemu-dm-{second}") && !ServiceNames(host).Contains($"qemu-dm-{first}"), CommandSeconds), host.MustRun("service", "list").StdOut);
            Assert.True(Eventually.Holds(() => After(host.ConsoleLog(Name), "=> reset").Contains(Banner, StringComparison.Ordinal), BootSeconds), "no second boot: " + host.ConsoleLog(Name));
            AtThePrompt(host);

            // poweroff: on_poweroff = destroy; the device model goes with the domain.
            GuestConsole.TypeOnce(host, Name, "poweroff", domainEnds: true);
            Assert.True(Eventually.Holds(() => host.Domain(Name) is null, CommandSeconds), "still there after poweroff: " + host.ConsoleLog(Name));
            Assert.DoesNotContain(ServiceNames(host), n => n.StartsWith("qemu-dm-", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(host.ConsoleLog(Name));
        }
    }

    /// <summary>
    /// Waits for the prompt after the last banner. Nobody stops the autoboot (a `disagg console` started for the
    /// key may well miss U-Boot's 2-second countdown): distro_bootcmd finds no partition on the empty disk and no
    /// network, and U-Boot drops to its prompt, as it does on QEMU.
    /// </summary>
    private static void AtThePrompt(TestHost host) =>
        Assert.True(Eventually.Holds(() => LastBoot(host.ConsoleLog(Name)).Contains(Prompt, StringComparison.Ordinal), BootSeconds), "no prompt: " + host.ConsoleLog(Name));

    private static string LastBoot(string log) => log[Math.Max(0, log.LastIndexOf(Banner, StringComparison.Ordinal))..];

    private static string After(string log, string what) => log.LastIndexOf(what, StringComparison.Ordinal) is var at and >= 0 ? log[(at + what.Length)..] : "";

    private static int DomainId(TestHost host) => TestHost.Int(host.Domain(Name) ?? throw new InvalidOperationException($"{Name} is not running"), "id");

    private static HashSet<string> ServiceNames(TestHost host) =>
        [.. host.Json("service", "list").EnumerateArray().Select(s => s.GetProperty("name").GetString()!)];
}
