using System.Diagnostics;
using System.Globalization;
using Disagg.Bench;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.DiskImage;
using Disagg.QemuDm.Tests;
using Disagg.TestSupport;

// bench/hvm-blk: Debian's Linux (HVM, 2 vCPUs) with a 64 MiB raw virtio disk served by disagg-qemu-dm.
// 4 KiB O_DIRECT reads, timed inside the guest: the difference between a long and a short dd over the
// difference in reads (process start cancels). Floor: a host pread loop of 4 KiB over the same image.
// Restart: a guest loop of single 4 KiB reads stamps each completion (/proc/uptime, 10 ms: busybox date has no %N); qemu-dm is SIGKILLed and started
// again; the longest gap between stamps is what the guest saw.
var quick = args.Contains("--quick");
var report = new BenchReport("hvm-blk", ratioFormat: "0.#");
var many = quick ? 400 : 3000;
const int Few = 100;

var state = Directory.CreateTempSubdirectory("bench-hvm-blk").FullName;
try
{
    var image = Path.Combine(state, "disk.img");
    using (var f = File.Create(image))
    {
        var block = new byte[1 << 20];
        Random.Shared.NextBytes(block);
        for (var i = 0; i < 64; i++)
        {
            f.Write(block);
        }
    }

    var floor = PreadFloor(image, quick ? 20_000 : 200_000);
    await using var kernel = await KernelProcess.StartAsync(pcpus: 2, memory: "512M");
    await using var control = await KernelClient.ConnectAsync(kernel.Socket, kernel.Token);
    await control.CallAsync<OkReply>(new Subscribe());
    await using var guest = await HvmLinuxGuest.BootAsync(kernel, control, state, 20, ["--disk", $"{image},format=raw"]);

    // The restart first: the reads below are then all the new qemu-dm served, and its exit counts their copies.
    // Stamps go to guest tmpfs (the UART is qemu-dm's too: the console must not be the clock).
    await guest.TypeAsync("(i=0; while [ ! -f /tmp/stop ]; do dd if=/dev/vda of=/dev/null bs=4096 count=1 skip=$((i % 16000)) iflag=direct 2>/dev/null; read up idle < /proc/uptime; echo ${up%.*}${up#*.}; i=$((i+1)); done > /tmp/stamps) &");
    await guest.RunAsync("sleep 3"); // the loop's line is read whole (typed input waits in qemu-dm) and it runs
    var clock = Stopwatch.StartNew();
    await guest.RestartDeviceModelAsync();
    var ready = clock.Elapsed;
    await Task.Delay(TimeSpan.FromSeconds(3));
    var gap = await guest.RunAsync("touch /tmp/stop; sleep 2; awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { printf \"gap=%d n=%d\\n\", m * 10000, NR }' /tmp/stamps");
    var gapUs = double.Parse(gap[(gap.IndexOf("gap=", StringComparison.Ordinal) + 4)..].Split(' ')[0], CultureInfo.InvariantCulture);

    var small = await GuestMicrosecondsAsync(guest, Few);
    var large = await GuestMicrosecondsAsync(guest, many);
    var perRead = (large - small) / (many - Few);
    report.Figure("read-4k-linux", perRead, "us", perRead / floor, "host pread 4k");
    report.Figure("host-pread-4k", floor, "us");
    report.Figure("restart-sigkill-to-next-io", gapUs / 1000, "ms");
    report.Figure("restart-sigkill-to-ready", ready.TotalMilliseconds, "ms");

    // qemu-dm logs its guest-memory copies and round trips when it stops: per 4 KiB read, both.
    guest.DeviceModel.Terminate(TimeSpan.FromSeconds(10));
    guest.DeviceModel.WaitForStdErr("guest memory:", TimeSpan.FromSeconds(10));
    var counts = System.Text.RegularExpressions.Regex.Match(guest.DeviceModel.StdErr, "guest memory: ([0-9]+) copies in ([0-9]+) round trips");
    if (counts.Success)
    {
        var reads = Few + many;
        report.Figure("copies-per-4k-read", double.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture) / reads, "");
        report.Figure("round-trips-per-4k-read", double.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture) / reads, "");
    }

    Console.Error.WriteLine($"hvm-blk: {gap.Trim()} stamped reads around the kill; load {File.ReadAllText("/proc/loadavg").Trim()}");
    return 0;
}
finally
{
    Directory.Delete(state, recursive: true);
}

static async Task<double> GuestMicrosecondsAsync(HvmLinuxGuest guest, int reads)
{
    var output = await guest.RunAsync($"read u0 x < /proc/uptime; dd if=/dev/vda of=/dev/null bs=4096 count={reads} iflag=direct 2>/dev/null; read u1 x < /proc/uptime; echo us=$(((${{u1%.*}}${{u1#*.}} - ${{u0%.*}}${{u0#*.}}) * 10000))");
    var at = output.IndexOf("us=", StringComparison.Ordinal);
    return double.Parse(output[(at + 3)..].Split('\n')[0].Trim(), CultureInfo.InvariantCulture);
}

// Median of 4 KiB preads at random aligned offsets through shared/DiskImage's raw image (blkback's code).
static double PreadFloor(string path, int reads)
{
    using var image = DiskImages.Open(path, DiskImageFormat.Raw, readOnly: true);
    var buffer = new byte[4096];
    var sectors = image.SectorCount / 8;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < reads; i++)
    {
        image.Read(Random.Shared.NextInt64(sectors) * 8, buffer);
    }

    return clock.Elapsed.TotalMicroseconds / reads;
}
