using System.Security.Cryptography;
using System.Text;
using Disagg.Abi.Hypercalls;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
using Xunit.Abstractions;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// Debian's unmodified Linux with qemu-dm's virtio devices (virtio-mmio slots, shared/Virtio over the
/// kernel's guest-memory requests): a disk formatted on the host by mke2fs is mounted and written, the host
/// reads the files back with debugfs and e2fsck finds it clean; a qcow2 disk given read-only is refused for
/// writes; virtio-rng is the guest's hwrng.
/// </summary>
public sealed class LinuxVirtioBlkTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DeviceModelDomain = 22;
    private static readonly TimeSpan PowerOffTimeout = TimeSpan.FromMinutes(1);

    private HvmTestKernel _host = null!;

    public async Task InitializeAsync() => _host = await HvmTestKernel.StartAsync("qemu-dm-blk");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [LinuxGuestFact]
    public async Task LinuxMountsAHostMadeExt4DiskTheHostReadsItsFilesBackAReadOnlyQcow2RefusesWritesAndRngFeedsHwrng()
    {
        var rw = Path.Combine(_host.State, "rw.img");
        HostTools.MakeExt4(rw, 64);
        var files = Directory.CreateDirectory(Path.Combine(_host.State, "ro-files")).FullName;
        await File.WriteAllTextAsync(Path.Combine(files, "host.txt"), "written-on-the-host\n");
        var roRaw = Path.Combine(_host.State, "ro.raw");
        HostTools.MakeExt4(roRaw, 16, files);
        var ro = Path.Combine(_host.State, "ro.qcow2");
        HostTools.Check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", roRaw, ro);

        await using var guest = await HvmLinuxGuest.BootAsync(_host.Kernel, _host.Control, _host.State, DeviceModelDomain, ["--disk", $"{rw},format=raw", "--disk", $"{ro},format=qcow2,ro", "--rng"]);
        try
        {
            // The first disk is vda (slot 7, probed first), the second vdb; the read-only one says so.
            var ids = await guest.RunAsync("cat /sys/block/vda/serial; echo; cat /sys/block/vdb/serial; echo; cat /sys/block/vdb/ro /sys/block/vda/size");
            Assert.Contains("disagg-vda", ids, StringComparison.Ordinal);
            Assert.Contains("disagg-vdb", ids, StringComparison.Ordinal);
            Assert.Contains($"1\n{64 * 2048}", ids, StringComparison.Ordinal);

            await guest.RunAsync("mkdir -p /mnt /ro && mount -t ext4 /dev/vda /mnt && mount -t ext4 -o ro /dev/vdb /ro");
            Assert.Contains("written-on-the-host", await guest.RunAsync("cat /ro/host.txt"), StringComparison.Ordinal);
            await guest.RunAsync("echo written-by-linux > /mnt/hello.txt && dd if=/dev/urandom of=/mnt/blob bs=4096 count=64 conv=fsync 2>/dev/null && sync");
            var sum = await guest.RunAsync("md5sum /mnt/blob");

            // Read-only: Linux refuses a write to the block device and a read-write remount.
            var refused = await guest.RunAsync("dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>&1; echo dd=$?; mount -o remount,rw /ro 2>&1; echo remount=$?");
            Assert.DoesNotContain("dd=0", refused, StringComparison.Ordinal);
            Assert.DoesNotContain("remount=0", refused, StringComparison.Ordinal);

            // virtio-rng is the hwrng Linux reads from.
            Assert.Contains("virtio_rng", await guest.RunAsync("cat /sys/class/misc/hw_random/rng_current"), StringComparison.Ordinal);
            Assert.Matches("[0-9a-f]{32}", await guest.RunAsync("head -c 64 /dev/hwrng | md5sum"));

            await guest.RunAsync("umount /mnt && umount /ro");
            var errors = await guest.RunAsync("dmesg | grep -i -e 'i/o error' -e 'virtio' -e 'blk_update' | tail -20");
            output.WriteLine(errors);
            Assert.DoesNotContain("I/O error", errors, StringComparison.OrdinalIgnoreCase);
            var end = await guest.PowerOffAsync(PowerOffTimeout);
            Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);

            // The host reads what Linux wrote, and the file system is clean.
            var fsck = HostTools.Fsck(rw);
            Assert.True(fsck.Code == 0, fsck.Output);
            Assert.Equal("written-by-linux\n", Encoding.ASCII.GetString(HostTools.ReadExt4File(rw, "/hello.txt")));
            var blob = HostTools.ReadExt4File(rw, "/blob");
            Assert.Equal(64 * 4096, blob.Length);
            Assert.Contains(Convert.ToHexStringLower(MD5.HashData(blob)), sum, StringComparison.Ordinal);
            Assert.Equal(0, HostTools.Fsck(roRaw).Code);
        }
        finally
        {
            output.WriteLine(guest.History);
            output.WriteLine(guest.DeviceModel.StdErr);
        }
    }
}
