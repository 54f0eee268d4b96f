using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// F and D against QEMU's softfloat: Guests/fp-differential.c runs every arithmetic op, conversion and
/// compare over edge-case operands in all five rounding modes and prints each result with its fflags;
/// QEMU and run-elf on each engine must print the same ~14000 values.
/// </summary>
public class FloatDifferentialTests
{
    private const string Clang = "/usr/bin/clang-14";
    private const string Qemu = "/usr/bin/qemu-system-riscv64";

    [Fact]
    public void RoundingAndFlagsMatchQemuSoftfloat()
    {
        Assert.True(File.Exists(Clang) && File.Exists(Qemu), $"{Clang} and {Qemu} are needed (tools/deps.sh installs them)");
        var source = Path.Combine(RepoPaths.Root, "tests", "Disagg.Kernel.Tests", "Guests");
        var elf = Path.Combine(Path.GetDirectoryName(Kernel.WriteTemp([], "placeholder"))!, "fp-differential.elf");
        var build = HostProcess.Run(
            Clang,
            ["--target=riscv64", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-O1", "-nostdlib", "-ffreestanding",
             "-fuse-ld=lld", "-T", Path.Combine(source, "link.ld"), "-o", elf,
             Path.Combine(source, "start.S"), Path.Combine(source, "fp-differential.c")],
            TimeSpan.FromMinutes(2));
        Assert.True(build.ExitCode == 0, build.ToString());

        var qemu = HostProcess.Run(Qemu, ["-machine", "virt", "-nographic", "-bios", "default", "-kernel", elf], TimeSpan.FromSeconds(60));
        Assert.False(qemu.TimedOut, qemu.ToString());
        var actual = Lines(qemu.StdOut);
        foreach (var (engine, ours) in Kernel.RunElfOnEachEngine(elf))
        {
            Assert.True(ours.ExitCode == 0, engine + ": " + ours);
            var expected = Lines(ours.StdOut);
            Assert.True(expected.Length > 1000, $"only {expected.Length} lines from run-elf --engine {engine}");
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
