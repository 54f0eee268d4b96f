using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// Traps, CSRs, paging and interrupts against QEMU + OpenSBI: Guests/privileged-differential.c prints
/// every trap's scause/stval/sepc and the CSR values it reads; QEMU and run-elf on each engine must print the same.
/// (Differences allowed by the spec and avoided by the program: ebreak's stval, the boot ROM at 0x1000.)
/// </summary>
public class PrivilegedDifferentialTests
{
    private const string Clang = "/usr/bin/clang-14";
    private const string Qemu = "/usr/bin/qemu-system-riscv64";

    [Fact]
    public void TrapsCsrsAndPagingMatchQemu()
    {
        Assert.True(File.Exists(Clang) && File.Exists(Qemu), $"{Clang} and {Qemu} are needed (tools/deps.sh installs them)");
        var source = Path.Combine(RepoPaths.Root, "tests", "Disagg.Kernel.Tests", "Guests");
        var elf = Path.Combine(Path.GetDirectoryName(Kernel.WriteTemp([], "placeholder"))!, "privileged-differential.elf");
        var build = HostProcess.Run(
            Clang,
            ["--target=riscv64", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-mno-relax", "-O1", "-nostdlib", "-ffreestanding",
             "-fuse-ld=lld", "-T", Path.Combine(source, "link.ld"), "-o", elf,
             Path.Combine(source, "privileged-start.S"), Path.Combine(source, "privileged-differential.c")],
            TimeSpan.FromMinutes(2));
        Assert.True(build.ExitCode == 0, build.ToString());

        // QEMU is the reference here, not the system under test: under CI load QEMU 7.2 (with Sstc) has hung
        // right after this guest's timer trap in about 1 run in 15, with or without the guest's fix for the
        // set_timer(-1) overflow. A reference that hangs says nothing about us, so it gets two more tries;
        // a run that finishes must still match ours line for line.
        var qemu = HostProcess.Run(Qemu, ["-machine", "virt", "-nographic", "-bios", "default", "-kernel", elf], TimeSpan.FromSeconds(60));
        for (var attempt = 2; attempt <= 3 && qemu.TimedOut; attempt++)
        {
            qemu = HostProcess.Run(Qemu, ["-machine", "virt", "-nographic", "-bios", "default", "-kernel", elf], TimeSpan.FromSeconds(60));
        }

        Assert.False(qemu.TimedOut, "QEMU hung three times; the last run:\n" + qemu);

        var actual = Lines(qemu.StdOut);
        foreach (var (engine, ours) in Kernel.RunElfOnEachEngine(elf))
        {
            Assert.True(ours.ExitCode == 0, engine + ": " + ours);
            var expected = Lines(ours.StdOut);
            Assert.True(expected.Length > 30 && expected[^1] == "done", $"run-elf --engine {engine} printed {expected.Length} lines:\n{ours.StdOut}");
            var qemuTail = actual[^expected.Length..];
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(expected[i] == qemuTail[i], $"line {i} differs\n run-elf --engine {engine}: {expected[i]}\n qemu:    {qemuTail[i]}");
            }
        }
    }

    private static string[] Lines(string s) =>
        s.Replace("\r", "", StringComparison.Ordinal).Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
