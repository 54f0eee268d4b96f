using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
using Disagg.TestSupport.Netif;
using Xunit.Abstractions;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// Debian's unmodified Linux with a virtio-net NIC served by a real qemu-dm, whose vif is a port on a real
/// netback's bridge next to a native netfront that answers ARP and ICMP echo (10.20.0.1): Linux gets a static
/// address and pings it; pings resume after a SIGKILL of qemu-dm and after a SIGKILL of netback; a frame longer
/// than the vif's MTU is dropped and counted by qemu-dm, one from another source MAC by netback's anti-spoofing.
/// </summary>
public sealed partial class LinuxNetworkTests(ITestOutputHelper output)
{
    private const string GuestMac = "00:16:3e:00:14:01";
    private static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    [LinuxGuestFact]
    public async Task LinuxPingsANetfrontThroughNetbackAndPingsResumeAfterQemuDmAndNetbackAreKilled()
    {
        await using var rig = await NetbackRig.StartAsync(pcpus: 2, memory: "512M");
        var peer = await rig.AddStationAsync(30, "00:16:3e:00:00:1e", ip: "10.20.0.1");
        await using var nic = await QemuDmNic.StartAsync(rig, GuestMac);
        var commandLine = "console=ttyS0 earlycon=sbi panic=-1 loglevel=5 DISAGG_SHELL=ttyS0";
        await rig.Control.CallAsync<OkReply>(new LoadKernel(nic.Domain, await File.ReadAllBytesAsync(LinuxGuestFiles.Kernel), await File.ReadAllBytesAsync(LinuxGuestFiles.Initramfs), commandLine));
        await rig.Control.CallAsync<OkReply>(new DomainCommand(nic.Domain, DomainOperation.Unpause));
        var console = await UartConsole.ConnectAsync(nic.ConsoleSocket, TimeSpan.FromSeconds(30));
        try
        {
            var at = await console.WaitForAsync("disagg-init: shell on /dev/ttyS0", BootTimeout);
            at = await console.WaitForAsync("# ", CommandTimeout, at);
            await console.TypeAsync("ip link set eth0 up && ip addr add 10.20.0.2/24 dev eth0 && ping -c 3 10.20.0.1");
            at = await console.WaitForAsync("3 packets transmitted, 3 packets received", CommandTimeout, at);
            Assert.True(peer.Answered >= 3);

            // SIGKILL qemu-dm in the middle of a ping run: its successor starts the vif over, the guest's pings resume.
            await console.TypeAsync("ping -c 30 -i 0.5 10.20.0.1");
            at = await console.WaitForAsync("seq=3 ", CommandTimeout, at);
            nic.Dm.Kill();
            await console.DisposeAsync();
            await nic.Dm.StartAsync(TimeSpan.FromSeconds(90));
            console = await UartConsole.ConnectAsync(nic.ConsoleSocket, TimeSpan.FromSeconds(30));
            at = await console.WaitForAsync("30 packets transmitted, ", CommandTimeout);
            at = await console.WaitForAsync("packet loss", CommandTimeout, at); // the whole summary line, not its start
            output.WriteLine($"a qemu-dm kill during 30 pings: {Received(console.Text, 30)} replies");
            Assert.True(Received(console.Text, 30) >= 6, console.Text); // seq 0-3 before the kill, and some after it
            await console.TypeAsync("ping -c 3 10.20.0.1");
            at = await console.WaitForAsync("3 packets transmitted, 3 packets received", CommandTimeout, at);

            // SIGKILL netback in the middle of a ping run: its successor resumes the vif's rings.
            await console.TypeAsync("ping -c 20 -i 0.5 10.20.0.1");
            at = await console.WaitForAsync("seq=3 ", CommandTimeout, at);
            rig.Netback.Kill();
            await rig.Netback.StartAsync(TimeSpan.FromSeconds(90));
            at = await console.WaitForAsync("20 packets transmitted, ", CommandTimeout, at);
            at = await console.WaitForAsync("packet loss", CommandTimeout, at); // the whole summary line, not its start
            output.WriteLine($"a netback kill during 20 pings: {Received(console.Text, 20)} replies");
            Assert.True(Received(console.Text, 20) >= 6, console.Text);
            await console.TypeAsync("ping -c 3 10.20.0.1");
            at = await console.WaitForAsync("3 packets transmitted, 3 packets received", CommandTimeout, at);

            // Hostile frames from the emulated side: longer than the vif's MTU (dropped by qemu-dm), or from
            // another MAC than the toolstack gave the vif (dropped by netback's anti-spoofing).
            await console.TypeAsync("ip link set eth0 mtu 4000 && ping -c 2 -W 1 -s 3000 10.20.0.1; ip link set eth0 mtu 1500; echo mtu-$((1+1))");
            at = await console.WaitForAsync("mtu-2", CommandTimeout, at);
            Assert.True(nic.Dm.WaitForStdErr("nic0: dropped a guest frame of 3042 bytes", TimeSpan.FromSeconds(10)), nic.Dm.StdErr);
            await console.TypeAsync("ip link set eth0 address 00:16:3e:00:66:66 && ping -c 2 -W 1 10.20.0.1; ip link set eth0 address " + GuestMac + "; echo mac-$((2+1))");
            at = await console.WaitForAsync("mac-3", CommandTimeout, at);
            var status = await rig.VifStatusAsync(QemuDmNic.DeviceModelDomain, s => long.Parse(s["spoofed"], CultureInfo.InvariantCulture) >= 1);
            output.WriteLine($"netback's view of the NIC's vif: spoofed={status["spoofed"]} drops={status["drops"]}");

            // Still a good citizen afterwards.
            await console.TypeAsync("ping -c 2 10.20.0.1");
            at = await console.WaitForAsync("2 packets transmitted, 2 packets received", CommandTimeout, at);
            await console.TypeAsync("poweroff -f");
        }
        finally
        {
            output.WriteLine(console.Text);
            output.WriteLine(nic.Dm.StdErr);
            await console.DisposeAsync();
        }
    }

    /// <summary>The "N packets received" of the last summary of a run of <paramref name="sent"/> pings.</summary>
    private static int Received(string text, int sent)
    {
        var matches = Summary().Matches(text).Where(m => m.Groups["sent"].Value == sent.ToString(CultureInfo.InvariantCulture)).ToList();
        return matches.Count == 0 ? -1 : int.Parse(matches[^1].Groups["got"].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"(?<sent>\d+) packets transmitted, (?<got>\d+) packets received")]
    private static partial Regex Summary();
}
