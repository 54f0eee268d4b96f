using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Disagg.Abi.Hypercalls;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;
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

    private HvmTestKernel _host = null!;

    public async Task InitializeAsync() => _host = await HvmTestKernel.StartAsync("qemu-dm-kill");

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [LinuxGuestFact]
    public async Task QemuDmKilledTwiceWhileLinuxCopiesWithFsyncIsAPauseNotAnError()
    {
        var disk = Path.Combine(_host.State, "disk.img");
        HostTools.MakeExt4(disk, 64);
        await using var guest = await HvmLinuxGuest.BootAsync(_host.Kernel, _host.Control, _host.State, DeviceModelDomain, ["--disk", $"{disk},format=raw"]);
        try
        {
            await guest.RunAsync("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt");
            await guest.RunAsync($"i=0; while [ $i -lt {Files} ]; do head -c 131072 /dev/urandom > /tmp/src$i; i=$((i+1)); done");
            var sums = await guest.RunAsync("md5sum /tmp/src*");

            // The copy runs in the background until told to stop, round after round over the same files; each
            // copy is written with fsync, then announced in guest tmpfs, not on the console: while qemu-dm is
            // stopped the guest's only device traffic is then the disk's.
            await guest.TypeAsync($"(i=0; while [ ! -f /tmp/stop ]; do n=$((i % {Files})); dd if=/tmp/src$n of=/mnt/f$n bs=4096 conv=fsync 2>/dev/null || echo \"COPY-\"\"FAILED-$i\"; echo \"copied-\"\"$i\"; i=$((i+1)); done; echo \"copy-\"\"finished\") > /tmp/progress 2>&1 &");

            // Once killed at a random instant of the copy; once stopped for a second first, so the guest's vCPUs
            // park on ioreqs nobody takes and the new qemu-dm finds them READY (or INPROCESS) with its requests
            // (how many it completed on resume is reported: a kill can land between requests).
            var resumes = 0;
            var copied = await CopiedAsync(guest, 3);
            foreach (var stopped in new[] { false, true })
            {
                var clock = Stopwatch.StartNew();
                await guest.RestartDeviceModelAsync(stopped ? TimeSpan.FromSeconds(1) : null);
                var ready = clock.Elapsed;
                resumes++;
                var completed = CompletedOnResume(guest.DeviceModel, resumes);
                var before = copied;
                copied = await CopiedAsync(guest, copied + 2);
                output.WriteLine($"qemu-dm {(stopped ? "SIGSTOP 1 s, then SIGKILL" : "SIGKILL")} after {before} copies: ready again {ready.TotalMilliseconds:F0} ms, " +
                    $"{completed} requests completed on resume, {copied} copies seen {clock.Elapsed.TotalMilliseconds:F0} ms after the kill");
            }

            // Every file written at least once before the copy stops (on a quick host the kills are over before
            // the first round is), so each is compared below.
            await CopiedAsync(guest, Math.Max(copied, Files));
            await guest.RunAsync("touch /tmp/stop");
            var until = DateTime.UtcNow + CopyTimeout;
            while (!(await guest.RunAsync("tail -1 /tmp/progress")).Contains("copy-finished", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < until, "the copy did not stop");
                await Task.Delay(500);
            }

            Assert.DoesNotContain("COPY-FAILED", await guest.RunAsync("cat /tmp/progress"), StringComparison.Ordinal);
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

    /// <summary>Looks at the copy's progress until at least <paramref name="count"/> copies are done; returns how many are.</summary>
    private static async Task<int> CopiedAsync(HvmLinuxGuest guest, int count)
    {
        var until = DateTime.UtcNow + CopyTimeout;
        while (true)
        {
            var last = Regex.Match(await guest.RunAsync("tail -1 /tmp/progress"), "copied-([0-9]+)");
            if (last.Success && int.Parse(last.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1 is var done && done >= count)
            {
                return done;
            }

            Assert.True(DateTime.UtcNow < until, $"the copy did not reach {count} copies in {CopyTimeout.TotalMinutes} min");
            await Task.Delay(300);
        }
    }

    /// <summary>What the <paramref name="nth"/> resume of slot 7 logged: requests it completed (re-executed or never served).</summary>
    private static int CompletedOnResume(ServiceProcess dm, int nth)
    {
        Assert.True(Eventually.Holds(() => Regex.Matches(dm.StdErr, "virtio slot 7 state resumed: .*, ([0-9]+) requests completed on resume").Count >= nth, 30), dm.StdErr);
        return int.Parse(Regex.Matches(dm.StdErr, "virtio slot 7 state resumed: .*, ([0-9]+) requests completed on resume")[nth - 1].Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
