using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// pvos's HVM flavour (guests/hvm: booted by the Linux Image loader, console on the UART, disk and NIC through
/// virtio-mmio served by its qemu-dm) running the PV flavour's own apps: blk-verify on a virtio disk across a
/// SIGKILL of qemu-dm, with the last pass read back by a second boot; udp-blast to a PV pvos's udp-echo through
/// netback. pvos boots in well under a second, so these are cheap.
/// </summary>
public sealed partial class PvosHvmVirtioTests(ITestOutputHelper output)
{
    private const double Seconds = 180;

    private static string Image => Path.Combine(RepoPaths.Guests, "rv64", "pvos-hvm.Image");

    [Fact]
    public void BlkVerifyOnAVirtioDiskLosesNoAcknowledgedWriteWhenQemuDmIsKilled()
    {
        using var host = new TestHost("none", "memory = 512M\npcpus = 2");
        var disk = Path.Combine(host.GuestDir, "disk.img");
        using (var f = File.Create(disk))
        {
            f.SetLength(8 << 20);
        }

        try
        {
            // Passes of 1 MiB written, flushed and read back, for 12 s; qemu-dm is killed once the first pass is done.
            Create(host, "verify", "app=blk-verify sectors=2048 req=64 depth=8 seconds=12", disk);
            Assert.True(Eventually.Holds(() => host.ConsoleLog("verify").Contains("blk-verify: pass 1:", StringComparison.Ordinal), Seconds), host.ConsoleLog("verify"));
            Assert.Contains("virtio-blk: slot 7", host.ConsoleLog("verify"), StringComparison.Ordinal);
            var service = $"qemu-dm-{Id(host, "verify")}";
            var pid = TestHost.Int(host.Service(service), "pid");
            var passesBeforeKill = PassLines().Count(host.ConsoleLog("verify"));
            host.MustRun("service", "kill", service);
            Assert.True(Eventually.Holds(() => Restarted(host, service, pid), Seconds), host.MustRun("service", "list").StdOut);
            Assert.True(Eventually.Holds(() => Verdict().IsMatch(host.ConsoleLog("verify")), Seconds), host.ConsoleLog("verify")); // the last line: the rest is written
            var log = host.ConsoleLog("verify");
            Assert.Contains("blk-verify: PASS", log, StringComparison.Ordinal);
            Assert.DoesNotContain("device error", log, StringComparison.Ordinal);
            var passes = int.Parse(DonePasses().Match(log).Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(passes > passesBeforeKill, log); // the pass the kill interrupted finished, and was read back whole
            host.MustRun("destroy", "verify");

            // What the last pass wrote (acknowledged, flushed) is on the image: a second boot reads it back.
            Create(host, "check", $"app=blk-verify sectors=2048 req=64 check-pass={passes}", disk);
            Assert.True(Eventually.Holds(() => Verdict().IsMatch(host.ConsoleLog("check")), Seconds), host.ConsoleLog("check"));
            Assert.Contains($"checked 2048 sectors for pass {passes}: 0 mismatches, 0 errors", host.ConsoleLog("check"), StringComparison.Ordinal);
            Assert.Contains("blk-verify: PASS", host.ConsoleLog("check"), StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine(host.ConsoleLog("verify"));
            output.WriteLine(host.ConsoleLog("check"));
        }
    }

    [Fact]
    public void UdpBlastOverVirtioNetIsEchoedByAPvGuestThroughNetback()
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
                vif = [ 'mac=00:16:3e:00:0d:02, bridge=xenbr0, ip=10.9.0.2/24' ]
                """);
            host.MustRun("create", peer);
            Assert.True(Eventually.Holds(() => host.ConsoleLog("peer").Contains("udp-echo: listening on 10.9.0.2:7", StringComparison.Ordinal), Seconds), host.ConsoleLog("peer"));

            Create(host, "blast", "app=udp-blast host=10.9.0.2 port=7 seconds=2 size=200 rate=200 ip=10.9.0.1/24", disk: null,
                "vif = [ 'mac=00:16:3e:00:0d:01, bridge=xenbr0' ]");
            Assert.True(Eventually.Holds(() => Blasted().IsMatch(host.ConsoleLog("blast")), Seconds), host.ConsoleLog("blast"));
            var m = Blasted().Match(host.ConsoleLog("blast"));
            var sent = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var echoes = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.True(sent > 0 && echoes > 0, m.Value); // both ways through netback: datagrams out, echoes in
            Assert.Contains("virtio-net in slot 7: mac 00:16:3e:00:0d:01", host.ConsoleLog("blast"), StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine(host.ConsoleLog("blast"));
            output.WriteLine(host.ConsoleLog("peer"));
        }
    }

    /// <summary>
    /// Issue 13, a device model that never answers: the guest keeps its virtio disk busy (each notify, interrupt
    /// acknowledgement and console character an ioreq). qemu-dm SIGKILLed: the vCPU waits for the next one, however
    /// long the restart takes, and goes on. qemu-dm SIGSTOPped (there, silent) past device_model_timeout: the kernel
    /// crashes the domain, saying which device model, vCPU, access and wait, in dmesg, the daemon's log and
    /// `disagg list`. The disk is in /dev/shm: qemu-dm answers a notify after the request's fdatasync, and a disk
    /// stall of the loaded test machine must not look like a silent device model.
    /// </summary>
    [Fact]
    public void AStoppedQemuDmHasItsGuestCrashedAfterTheTimeoutAndAKilledOneDoesNot()
    {
        using var host = new TestHost("none", "memory = 256M\npcpus = 2");
        var disk = $"/dev/shm/disagg-dmtimeout-{Environment.ProcessId}-{Guid.NewGuid():N}.img";
        using (var f = File.Create(disk))
        {
            f.SetLength(8 << 20);
        }

        try
        {
            Create(host, "busy", "app=blk-verify sectors=2048 req=64 depth=8 seconds=600", disk, "device_model_timeout = 5\non_crash = \"preserve\"");
            Assert.True(Eventually.Holds(() => PassLines().Count(host.ConsoleLog("busy")) >= 1, Seconds), host.ConsoleLog("busy"));
            var id = Id(host, "busy");
            var service = $"qemu-dm-{id}";
            var pid = TestHost.Int(host.Service(service), "pid");

            host.MustRun("service", "kill", service);
            Assert.True(Eventually.Holds(() => Restarted(host, service, pid), Seconds), host.MustRun("service", "list").StdOut);
            var afterKill = PassLines().Count(host.ConsoleLog("busy"));
            Assert.True(Eventually.Holds(() => PassLines().Count(host.ConsoleLog("busy")) >= afterKill + 1, Seconds), host.ConsoleLog("busy"));
            Assert.DoesNotContain('c', State(host, "busy"));

            host.MustRun("service", "stop", service);
            Assert.True(Eventually.Holds(() => State(host, "busy").Contains('c', StringComparison.Ordinal), Seconds), State(host, "busy"));
            var reason = host.Domain("busy")!.Value.GetProperty("reason").GetString()!;
            Assert.Matches(@$"domain {id} vcpu 0: device model \(domain \d+\) did not answer an ioreq \((read|write) of \d bytes at 0x1000[0-9a-f]+, slot (Ready|InProcess)\) for [0-9.]+ s \(answer timeout 5 s\): domain crashed", reason);
            Assert.Contains(reason, host.MustRun("dmesg").StdOut, StringComparison.Ordinal);
            Assert.Contains(reason, host.MustRun("list").StdOut, StringComparison.Ordinal);
            Assert.True(Eventually.Holds(() => File.ReadAllText(Path.Combine(host.Dir, "disagg.log")).Contains(reason, StringComparison.Ordinal), Seconds));
            host.MustRun("service", "cont", service);
        }
        finally
        {
            output.WriteLine(host.ConsoleLog("busy"));
            File.Delete(disk);
        }
    }

    private static string State(TestHost host, string name) =>
        (host.Domain(name) ?? throw new InvalidOperationException($"{name} is gone")).GetProperty("state").GetString()!;

    private static void Create(TestHost host, string name, string cmdline, string? disk, string extra = "")
    {
        var cfg = Path.Combine(host.GuestDir, name + ".cfg");
        var diskLine = disk is null ? "" : $"disk = [ 'format=raw, vdev=xvda, access=rw, target={disk}' ]";
        File.WriteAllText(cfg, $"""
            name = "{name}"
            type = "hvm"
            kernel = "{Image}"
            memory = 32
            cmdline = "{cmdline}"
            on_poweroff = "preserve"
            {diskLine}
            {extra}
            """);
        host.MustRun("create", cfg);
    }

    private static int Id(TestHost host, string name) => TestHost.Int(host.Domain(name) ?? throw new InvalidOperationException($"{name} is not running"), "id");

    private static bool Restarted(TestHost host, string service, int oldPid)
    {
        var row = host.Service(service);
        return row.GetProperty("state").GetString() == "running" && TestHost.Int(row, "restarts") >= 1
            && row.GetProperty("pid").ValueKind == JsonValueKind.Number && TestHost.Int(row, "pid") != oldPid;
    }

    [GeneratedRegex(@"blk-verify: done: (\d+) passes")]
    private static partial Regex DonePasses();

    [GeneratedRegex(@"blk-verify: (PASS|FAIL)[^\n]*\n")]
    private static partial Regex Verdict();

    [GeneratedRegex(@"blk-verify: pass \d+:")]
    private static partial Regex PassLines();

    [GeneratedRegex(@"udp-blast: sent (\d+) datagrams .*; (\d+) echoes back")]
    private static partial Regex Blasted();
}
