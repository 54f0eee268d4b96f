using Disagg.TestSupport;
using Disagg.TestSupport.Netif;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// qemu-dm's NIC as a port on netback's switch, without a guest: its vif (device 0 of qemu-dm's own domain)
/// connects, netback delivers the bridge's frames to it, and each side survives the other's SIGKILL — a killed
/// qemu-dm leaves netback switching for everyone else and its successor starts the vif over on fresh rings; a
/// killed netback's successor resumes the vif's rings with no new handshake from qemu-dm. Bad `--nic` values
/// are refused before anything starts.
/// </summary>
public sealed class NicTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TheNicsVifJoinsTheBridgeAndComesBackAfterQemuDmAndThenNetbackAreKilled()
    {
        await using var rig = await NetbackRig.StartAsync(memory: "128M");
        await using var nic = await QemuDmNic.StartAsync(rig, "00:16:3e:00:14:01", memoryMiB: 16);
        await nic.WaitConnectedAsync(1, Patience);
        var a = await rig.AddStationAsync(30, "00:16:3e:00:00:1e");
        var b = await rig.AddStationAsync(31, "00:16:3e:00:00:1f");

        // A broadcast reaches the NIC's port too (the guest has posted no buffers: qemu-dm holds the frame).
        a.Send(Frames.Ethernet(Frames.Broadcast, a.Mac, 0x88b5, new byte[46]));
        await rig.VifStatusAsync(QemuDmNic.DeviceModelDomain, s => Count(s, "tx_frames") >= 1);

        // qemu-dm dies with frames for its vif in flight; netback keeps switching for everyone else.
        var netbackPid = rig.Netback.Pid;
        nic.Dm.Kill();
        for (var i = 0; i < 300; i++)
        {
            a.Send(Frames.Ethernet(Frames.Broadcast, a.Mac, 0x88b5, new byte[46]));
        }

        await AssertEchoAsync(a, b);
        await nic.Dm.StartAsync(Patience);
        await nic.WaitConnectedAsync(2, Patience); // a second handshake: fresh rings, the dead process's are dropped
        Assert.Equal(netbackPid, rig.Netback.Pid);
        Assert.False(rig.Netback.HasExited);
        await AssertEchoAsync(a, b);

        // netback dies: its successor resumes the vif's rings; qemu-dm does nothing (no third handshake).
        rig.Netback.Kill();
        await rig.Netback.StartAsync(Patience);
        Assert.True(Eventually.Holds(() => nic.BackendStateAsync().GetAwaiter().GetResult() == "4", 60), rig.Netback.StdErr);
        Assert.Equal(2, nic.CountConnected());
        Assert.False(nic.Dm.HasExited);
        await AssertEchoAsync(a, b);
        a.Send(Frames.Ethernet(Frames.Broadcast, a.Mac, 0x88b5, new byte[46]));
        await rig.VifStatusAsync(QemuDmNic.DeviceModelDomain, s => s["state"] == "connected" && Count(s, "tx_frames") >= 1); // counters restart with the new process
    }

    [Theory]
    [InlineData("mac=01:16:3e:00:00:01,bridge=xenbr0", "is not a unicast MAC address")]
    [InlineData("mac=00:16:3e:00:00,bridge=xenbr0", "is not a unicast MAC address")]
    [InlineData("mac=00:16:3e:00:00:01", "mac= and bridge= are required")]
    [InlineData("mac=00:16:3e:00:00:01,bridge=xenbr0,model=e1000", "unknown or empty 'model=e1000'")]
    public void ABadNicIsRefusedBeforeAnythingStarts(string value, string message)
    {
        var r = HostProcess.Run(RepoPaths.Program("disagg-qemu-dm"), ["--domain", "5", "--state-dir", "/tmp", "--console-socket", "/tmp/x.sock", "--xenstore", "/tmp/xs.sock", "--nic", value], TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void ANicWithoutXenstoreIsRefused()
    {
        var r = HostProcess.Run(RepoPaths.Program("disagg-qemu-dm"), ["--domain", "5", "--state-dir", "/tmp", "--console-socket", "/tmp/x.sock", "--nic", "mac=00:16:3e:00:00:01,bridge=xenbr0"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--nic needs --xenstore", r.StdErr, StringComparison.Ordinal);
    }

    private static long Count(Dictionary<string, string> status, string key) => long.Parse(status[key], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An ARP-free echo between two stations: a frame from <paramref name="a"/> to <paramref name="b"/> arrives.</summary>
    private static async Task AssertEchoAsync(NetfrontStation a, NetfrontStation b)
    {
        var marker = Guid.NewGuid().ToByteArray();
        for (var attempt = 0; attempt < 10; attempt++)
        {
            a.Send(Frames.Ethernet(b.Mac, a.Mac, 0x88b5, marker));
            if (await b.ReceiveAsync(f => f.AsSpan(14).StartsWith(marker), TimeSpan.FromSeconds(3)) is not null)
            {
                return;
            }
        }

        Assert.Fail("no frame from station a reached station b");
    }
}
