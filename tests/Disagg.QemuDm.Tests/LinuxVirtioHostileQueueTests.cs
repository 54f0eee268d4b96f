using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// A hostile driver through qemu-dm: Linux unbinds its virtio-rng driver and drives the slot's registers
/// itself with busybox devmem, setting up a queue whose rings lie outside RAM and then one whose size is not
/// a power of two. Each reaches the guest as DEVICE_NEEDS_RESET with a configuration-change interrupt
/// status, qemu-dm logs the named fault and keeps serving: the disk on the next slot goes on working, and
/// after a reset the rng driver binds and reads entropy again.
/// </summary>
public sealed class LinuxVirtioHostileQueueTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DeviceModelDomain = 24;

    /// <summary>The rng is the second device: slot 6.</summary>
    private const ulong Rng = 0x1000_7000;
    private const string RngDevice = "10007000.virtio_mmio";

    private HvmTestKernel _host = null!;

    public async Task InitializeAsync() => _host = await HvmTestKernel.StartAsync("qemu-dm-hostile");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [LinuxGuestFact]
    public async Task HostileQueueSetupsReachTheGuestAsNeedsResetAndQemuDmKeepsServingTheDisk()
    {
        var disk = Path.Combine(_host.State, "disk.img");
        HostTools.MakeExt4(disk, 32);
        await using var guest = await HvmLinuxGuest.BootAsync(_host.Kernel, _host.Control, _host.State, DeviceModelDomain, ["--disk", $"{disk},format=raw", "--rng"]);
        try
        {
            await guest.RunAsync("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt");
            await guest.RunAsync($"echo {RngDevice} > /sys/bus/platform/drivers/virtio-mmio/unbind");

            // Rings at guest-physical 0x0-0x200: not RAM. The notify makes the device walk them.
            Assert.Equal("0x0000004F", await SetUpQueueAsync(guest, size: 8, ring: 0x0));
            Assert.Equal("0x00000002", await Register(guest, 0x060)); // InterruptStatus: configuration change
            Assert.True(guest.DeviceModel.WaitForStdErr("OutsideRam", TimeSpan.FromSeconds(30)), guest.DeviceModel.StdErr);
            await guest.RunAsync("echo still-serving > /mnt/a && sync && cat /mnt/a");

            // A queue size that is not a power of two: refused when the queue is made ready.
            Assert.Equal("0x0000004F", await SetUpQueueAsync(guest, size: 3, ring: 0x8000_0000));
            Assert.True(guest.DeviceModel.WaitForStdErr("BadQueueSetup", TimeSpan.FromSeconds(30)), guest.DeviceModel.StdErr);
            await guest.RunAsync("echo still-serving > /mnt/b && sync");

            // A reset clears it: the driver binds again and entropy flows.
            await guest.RunAsync($"devmem 0x{Rng + 0x070:x} 32 0 && echo {RngDevice} > /sys/bus/platform/drivers/virtio-mmio/bind");
            Assert.Contains("virtio_rng", await guest.RunAsync("cat /sys/class/misc/hw_random/rng_current"), StringComparison.Ordinal);
            Assert.Matches("[0-9a-f]{32}", await guest.RunAsync("head -c 64 /dev/hwrng | md5sum"));
            await guest.RunAsync("umount /mnt");
        }
        finally
        {
            output.WriteLine(guest.History);
            output.WriteLine(guest.DeviceModel.StdErr);
        }
    }

    /// <summary>Resets the device and sets up queue 0 as a driver would, then notifies it; returns Status as devmem prints it.</summary>
    private static async Task<string> SetUpQueueAsync(HvmLinuxGuest guest, int size, ulong ring)
    {
        string W(int offset, ulong value) => $"devmem 0x{Rng + (ulong)offset:x} 32 0x{value:x}";
        var steps = new[]
        {
            W(0x070, 0), W(0x070, 1), W(0x070, 3), // reset, ACKNOWLEDGE, DRIVER
            W(0x024, 1), W(0x020, 1), W(0x070, 0xB), // VIRTIO_F_VERSION_1, FEATURES_OK
            W(0x030, 0), W(0x038, (ulong)size),
            W(0x080, ring), W(0x084, 0), W(0x090, ring + 0x100), W(0x094, 0), W(0x0a0, ring + 0x200), W(0x0a4, 0),
            W(0x044, 1), W(0x070, 0xF), W(0x050, 0), // QueueReady, DRIVER_OK, QueueNotify
        };
        await guest.RunAsync(string.Join(" && ", steps));
        return await Register(guest, 0x070);
    }

    private static async Task<string> Register(HvmLinuxGuest guest, int offset) =>
        (await guest.RunAsync($"devmem 0x{Rng + (ulong)offset:x} 32")).Trim();
}
