using System.Diagnostics;
using System.Globalization;
using Disagg.Control.Messages;
using Disagg.TestSupport;
using Disagg.TestSupport.LinuxGuest;

// bench/linux-boot: Debian's unmodified riscv64 kernel booted as a Disagg HVM domain (2 vCPUs, 128 MiB),
// from CreateDomain to the first line our /init prints, next to qemu-system-riscv64 (TCG, virt, OpenSBI)
// booting the same kernel, initramfs and command line in the same run, from process start to that line.
// QEMU's command line adds console=ttyS0: its OpenSBI has no DBCN, so earlycon=sbi prints nothing there.
// --translate runs the domain's vCPUs on the translating engine (serve --engine translate).
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

var qemu = new List<double>();
for (var i = 0; i < runs; i++)
{
    qemu.Add(await QemuToInitAsync(cmdline + " console=ttyS0"));
}

var d = Median(disagg);
var q = Median(qemu);
Report("disagg-create-to-init", d, "s", q, "qemu");
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

static double Median(List<double> values)
{
    values.Sort();
    return values[values.Count / 2];
}

static void Report(string figure, double value, string unit, double? versus, string against) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"bench: linux-boot/{figure} {value:0.0} {unit}{(versus is { } v ? $" ratio {value / v:0.00} vs {against}" : "")}"));
