using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Disagg.Abi.Hypercalls;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Xunit.Abstractions;

namespace Disagg.QemuDm.Tests;

/// <summary>
/// The issue's headline: qemu-dm SIGKILLed while Linux copies files to its virtio disk with fsync. A new
/// qemu-dm takes the device state back (the record in the state directory, the queue positions from
/// used.idx in guest memory), runs again the requests that had no completion, and the guest sees a pause:
/// no I/O error in dmesg, every copy equal to its source, and e2fsck finds the file system clean.
/// </summary>
public sealed class LinuxVirtioRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int DeviceModelDomain = 23;
    private const int Files = 16;
    private static readonly TimeSpan CopyTimeout = TimeSpan.FromMinutes(4);

    private readonly string _state = Directory.CreateTempSubdirectory("qemu-dm-kill").FullName;
    private KernelProcess _kernel = null!;
    private KernelClient _control = null!;

    public async Task InitializeAsync()
    {
        _kernel = await KernelProcess.StartAsync(pcpus: 2, memory: "512M");
        _control = await _kernel.ConnectAsync();
        await _control.CallAsync<OkReply>(new Subscribe());
    }

    public async Task DisposeAsync()
    {
        await _control.DisposeAsync();
        await _kernel.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    [LinuxGuestFact]
    public async Task QemuDmKilledTwiceWhileLinuxCopiesWithFsyncIsAPauseNotAnError()
    {
        var disk = Path.Combine(_state, "disk.img");
        HostTools.MakeExt4(disk, 64);
        await using var guest = await HvmLinuxGuest.BootAsync(_kernel, _control, _state, DeviceModelDomain, ["--disk", $"{disk},format=raw"]);
        try
        {
            await guest.RunAsync("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt");
            await guest.RunAsync($"i=0; while [ $i -lt {Files} ]; do head -c 131072 /dev/urandom > /tmp/src$i; i=$((i+1)); done");
            var sums = await guest.RunAsync("md5sum /tmp/src*");

            // The copy runs in the background; each file is written with fsync, then announced.
            await guest.TypeAsync($"(i=0; while [ $i -lt {Files} ]; do dd if=/tmp/src$i of=/mnt/f$i bs=4096 conv=fsync 2>/dev/null || echo \"COPY-\"\"FAILED-$i\"; echo \"copied-\"\"$i\"; i=$((i+1)); done; echo \"copy-\"\"finished\") &");
            // Once killed at a random instant of the copy; once stopped first, so the guest's requests wait
            // unserved (its vCPU parked on the notify) and the new qemu-dm must complete them.
            var resumes = 0;
            foreach (var (after, stopped) in new[] { (2, false), (8, true) })
            {
                await guest.Console.WaitForAsync($"copied-{after}\r", CopyTimeout);
                var clock = Stopwatch.StartNew();
                await guest.RestartDeviceModelAsync(stopped ? TimeSpan.FromSeconds(1) : null);
                var ready = clock.Elapsed;
                resumes++;
                var completed = CompletedOnResume(guest.DeviceModel, resumes);
                await guest.Console.WaitForAsync($"copied-{after + 2}\r", CopyTimeout);
                output.WriteLine($"qemu-dm {(stopped ? "SIGSTOP 1 s, then SIGKILL" : "SIGKILL")} after copied-{after}: ready again {ready.TotalMilliseconds:F0} ms, " +
                    $"{completed} requests completed on resume, the guest's next whole copy {clock.Elapsed.TotalMilliseconds:F0} ms after the kill");
                if (stopped)
                {
                    Assert.True(completed > 0, $"the guest had no request waiting while qemu-dm was stopped:\n{guest.DeviceModel.StdErr}");
                }
            }

            await guest.Console.WaitForAsync("copy-finished", CopyTimeout);
            Assert.DoesNotMatch("COPY-FAILED-[0-9]", guest.History);
            var compared = await guest.RunAsync($"i=0; while [ $i -lt {Files} ]; do cmp /tmp/src$i /mnt/f$i || echo \"MIS\"\"MATCH-$i\"; i=$((i+1)); done");
            Assert.DoesNotContain("MISMATCH", compared, StringComparison.Ordinal);
            await guest.RunAsync("umount /mnt");
            var log = await guest.RunAsync("dmesg | grep -i -e 'error' -e 'virtio' -e 'timed out' -e 'hung' -e 'blk_' | tail -30");
            output.WriteLine(log);
            Assert.DoesNotContain("error", log, StringComparison.OrdinalIgnoreCase);
            var end = await guest.PowerOffAsync(TimeSpan.FromMinutes(1));
            Assert.Equal((int)ShutdownReason.Poweroff, end.ShutdownReason);

            var fsck = HostTools.Fsck(disk);
            Assert.True(fsck.Code == 0, fsck.Output);
            for (var i = 0; i < Files; i++)
            {
                var copy = HostTools.ReadExt4File(disk, $"/f{i}");
                Assert.Equal(131072, copy.Length);
                Assert.Contains($"{Convert.ToHexStringLower(MD5.HashData(copy))}  /tmp/src{i}\n", sums, StringComparison.Ordinal);
            }
        }
        finally
        {
            output.WriteLine(guest.History);
            output.WriteLine(guest.DeviceModel.StdErr);
        }
    }

    /// <summary>What the <paramref name="nth"/> resume of slot 7 logged: requests it completed (re-executed or never served).</summary>
    private static int CompletedOnResume(ServiceProcess dm, int nth)
    {
        Assert.True(Eventually.Holds(() => Regex.Matches(dm.StdErr, "virtio slot 7 state resumed: .*, ([0-9]+) requests completed on resume").Count >= nth, 30), dm.StdErr);
        return int.Parse(Regex.Matches(dm.StdErr, "virtio slot 7 state resumed: .*, ([0-9]+) requests completed on resume")[nth - 1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
