using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// RV32 against qemu-system-riscv32: Debian has no RV32 OpenSBI, so QEMU boots bench/cpu/msbi (a small
/// M-mode SBI: legacy putchar, BASE, TIME, SRST, DBCN; built here with clang) and then the same RV32 ELF
/// in S-mode. The guest's output must be the same on QEMU as on run-elf on each engine. The ISA tests
/// that need more SBI (IPI, HSM) or meet QEMU's known departures (isa-atomic, -csr, -paging) stay out.
/// </summary>
public class Rv32QemuDifferentialTests
{
    private const string Clang = "/usr/bin/clang-14";
    private const string Qemu = "/usr/bin/qemu-system-riscv32";

    private static readonly Lazy<string> Firmware = new(BuildFirmware);

    public static TheoryData<string> Programs()
    {
        var data = new TheoryData<string>();
        foreach (var elf in GuestElfs.Find("*.elf").Where(e => e.StartsWith("rv32", StringComparison.Ordinal)))
        {
            var name = Path.GetFileNameWithoutExtension(elf);
            if (name is "hello" or "isa-int" or "isa-fp" or "isa-compressed" or "isa-trap" or "isa-fencei")
            {
                data.Add(elf);
            }
        }

        if (data.Count == 0)
        {
            data.Add("(no rv32 guest ELFs under guests/build)");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Rv32GuestPrintsTheSameOnQemu(string program)
    {
        Assert.False(program.StartsWith('('), $"{program} (run `make guests`). {GuestElfs.Error}");
        Assert.True(File.Exists(Clang) && File.Exists(Qemu), $"{Clang} and {Qemu} are needed (tools/deps.sh installs them)");
        var elf = Path.Combine(RepoPaths.Guests, program);
        var qemu = HostProcess.Run(Qemu, ["-machine", "virt", "-nographic", "-bios", Firmware.Value, "-kernel", elf], TimeSpan.FromSeconds(60));
        Assert.False(qemu.TimedOut, qemu.ToString());
        Assert.True(qemu.ExitCode == 0, "QEMU with msbi: " + qemu);
        var reference = Normalize(qemu.StdOut);
        foreach (var (engine, ours) in Kernel.RunElfOnEachEngine(elf))
        {
            Assert.True(ours.ExitCode == 0, engine + ": " + ours);
            var printed = Normalize(ours.StdOut);
            Assert.NotEmpty(printed);
            Assert.True(printed == reference, $"run-elf --engine {engine} printed\n{printed}\nQEMU printed\n{reference}");
        }
    }

    private static string BuildFirmware()
    {
        var source = Path.Combine(RepoPaths.Root, "bench", "cpu", "msbi");
        var elf = Path.Combine(Path.GetDirectoryName(Kernel.WriteTemp([], "placeholder"))!, "msbi32.elf");
        var build = HostProcess.Run(
            Clang,
            ["--target=riscv32-unknown-elf", "-march=rv32ima", "-mabi=ilp32", "-nostdlib", "-ffreestanding", "-fuse-ld=lld", "-mno-relax",
             "-Wl,--no-relax", "-T", Path.Combine(source, "link.ld"), "-o", elf, Path.Combine(source, "msbi.S")],
            TimeSpan.FromMinutes(2));
        Assert.True(build.ExitCode == 0, build.ToString());
        return elf;
    }

    private static string Normalize(string s) => s.Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n');
}
