using System.Diagnostics;
using System.Globalization;
using Disagg.Bench;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;

// bench/linux-boot: Debian's unmodified riscv64 kernel booted as a Disagg HVM domain (2 vCPUs, 128 MiB),
// from CreateDomain to the first line our /init prints, next to qemu-system-riscv64 (TCG, virt, OpenSBI)
// booting the same kernel, initramfs and command line in the same run, from process start to that line.
// QEMU's command line adds console=ttyS0: its OpenSBI has no DBCN, so earlycon=sbi prints nothing there.
// --translate runs the domain's vCPUs on the translating engine (serve --engine translate).
// disagg-create-hvm-to-init: the same guest as an xl user boots it, `disagg create` of a type = "hvm" config
// on a `disagg host up` host (qemu-dm started and awaited, the UART as console), from the create command to
// the line in the guest's console log, with console=ttyS0 as QEMU's.
var runs = args.Contains("--quick") ? 1 : 3;
var engine = args.Contains("--translate") ? "translate" : null;
if (LinuxGuestFiles.Missing is { } missing)
{
    Console.Error.WriteLine("bench linux-boot: " + missing);
    return 2;
}

var cmdline = LinuxBoot.CommandLine("true");
var disagg = new List<double>();
await using (var kernel = await KernelProcess.StartAsync(pcpus: 2, memory: "512M", engine: engine))
{
    await using var control = await kernel.ConnectAsync();
    await control.CallAsync<OkReply>(new Subscribe());
    for (var i = 0; i < runs; i++)
    {
        var boot = await LinuxBoot.RunAsync(control, $"linux{i}", cmdline, vcpus: 2, memoryMiB: 128, TimeSpan.FromMinutes(5));
        if (boot.CreateToInit is not { } t || boot.End.ShutdownReason != 0)
        {
            Console.Error.WriteLine($"bench linux-boot: the boot did not reach init and power off:\n{boot.Console}");
            return 1;
        }

        disagg.Add(t.TotalSeconds);
    }
}

var toolstack = new List<double>();
if (engine is null)
{
    for (var i = 0; i < runs; i++)
    {
        toolstack.Add(ToolstackCreateToInit(cmdline + " console=ttyS0"));
    }
}

var qemu = new List<double>();
for (var i = 0; i < runs; i++)
{
    qemu.Add(await QemuToInitAsync(cmdline + " console=ttyS0"));
}

var d = Median(disagg);
var q = Median(qemu);
Report("disagg-create-to-init", d, "s", q, "qemu");
if (toolstack.Count > 0)
{
    Report("disagg-create-hvm-to-init", Median(toolstack), "s", q, "qemu");
}

Report("qemu-start-to-init", q, "s", null, "");
return 0;

static async Task<double> QemuToInitAsync(string cmdline)
{
    var psi = new ProcessStartInfo("qemu-system-riscv64")
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
        RedirectStandardInput = true,
        UseShellExecute = false,
    };
    foreach (var a in new[] { "-M", "virt", "-m", "128M", "-smp", "2", "-nographic", "-no-reboot", "-kernel", LinuxGuestFiles.Kernel, "-initrd", LinuxGuestFiles.Initramfs, "-append", cmdline })
    {
        psi.ArgumentList.Add(a);
    }

    var clock = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    double? toInit = null;
    using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    try
    {
        while (await p.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            if (toInit is null && line.Contains(LinuxBoot.InitMarker, StringComparison.Ordinal))
            {
                toInit = clock.Elapsed.TotalSeconds;
            }
        }

        await p.WaitForExitAsync(cts.Token);
    }
    finally
    {
        if (!p.HasExited)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    return toInit ?? throw new InvalidOperationException("qemu-system-riscv64 never reached init");
}

static double ToolstackCreateToInit(string cmdline)
{
    var disagg = RepoPaths.Program("disagg");
    var dir = Directory.CreateTempSubdirectory("dlb-").FullName; // short: Unix socket paths
    var bound = TimeSpan.FromMinutes(5);
    try
    {
        Must(HostProcess.Run(disagg, ["host", "up", "--state-dir", dir, "--memory", "512M", "--pcpus", "2"], bound));
        var cfg = Path.Combine(dir, "linux.cfg");
        File.WriteAllText(cfg, $"name = \"linux\"\ntype = \"hvm\"\nkernel = \"{LinuxGuestFiles.Kernel}\"\nramdisk = \"{LinuxGuestFiles.Initramfs}\"\n"
            + $"cmdline = '{cmdline}'\nvcpus = 2\nmemory = 128\non_poweroff = \"preserve\"\n");
        var log = Path.Combine(dir, "console", "guest-linux.log");
        var clock = Stopwatch.StartNew();
        Must(HostProcess.Run(disagg, ["create", cfg, "--state-dir", dir], bound));
        while (!(File.Exists(log) && File.ReadAllText(log).Contains(LinuxBoot.InitMarker, StringComparison.Ordinal)))
        {
            if (clock.Elapsed > bound)
            {
                throw new TimeoutException("disagg create (hvm): init not reached; console:\n" + (File.Exists(log) ? File.ReadAllText(log) : ""));
            }

            Thread.Sleep(20);
        }

        return clock.Elapsed.TotalSeconds;
    }
    finally
    {
        HostProcess.Run(disagg, ["host", "down", "--state-dir", dir], bound);
        Directory.Delete(dir, recursive: true);
    }
}

static void Must(ProcessResult r)
{
    if (r.ExitCode != 0)
    {
        throw new InvalidOperationException(r.ToString());
    }
}

static double Median(List<double> values)
{
    values.Sort();
    return values[values.Count / 2];
}

static void Report(string figure, double value, string unit, double? versus, string against) =>
    new BenchReport("linux-boot", valueFormat: "0.0", ratioFormat: "0.00").Figure(figure, value, unit, versus is { } v ? value / v : null, against);
