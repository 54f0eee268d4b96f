using System.Globalization;
using System.Text;
using Disagg.TestSupport;

namespace Disagg.Kernel.Tests;

/// <summary>
/// Random straight-line RV64IMAC programs (ALU, W ops, multiply/divide, loads, stores, AMOs; clang
/// compresses what it can) assembled with clang-14, run on run-elf (each engine) and on QEMU; the dumped registers
/// and data must be identical. Fixed seeds, so a failure reproduces.
/// </summary>
public class RandomProgramDifferentialTests
{
    private const string Clang = "/usr/bin/clang-14";
    private const string Qemu = "/usr/bin/qemu-system-riscv64";

    private static readonly string[] Ops3 = ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and", "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu", "addw", "subw", "sllw", "srlw", "sraw", "mulw", "divw", "divuw", "remw", "remuw"];
    private static readonly string[] OpsImm = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
    private static readonly string[] Loads = ["lb", "lh", "lw", "lbu", "lhu", "ld", "lwu"];
    private static readonly string[] Stores = ["sb", "sh", "sw", "sd"];
    private static readonly string[] Amos = ["amoswap.w", "amoadd.w", "amoxor.w", "amoand.w", "amoor.w", "amomin.w", "amomax.w", "amominu.w", "amomaxu.w", "amoswap.d", "amoadd.d", "amomin.d", "amomaxu.d"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RegistersAndMemoryMatchQemu(int seed)
    {
        Assert.True(File.Exists(Clang) && File.Exists(Qemu), $"{Clang} and {Qemu} are needed (tools/deps.sh installs them)");
        var dir = Path.GetDirectoryName(Kernel.WriteTemp([], "placeholder"))!;
        var asm = Path.Combine(dir, $"random-{seed}.S");
        var elf = Path.Combine(dir, $"random-{seed}.elf");
        File.WriteAllText(asm, Program(seed));
        var build = HostProcess.Run(
            Clang,
            ["--target=riscv64", "-march=rv64gc", "-mabi=lp64d", "-nostdlib", "-fuse-ld=lld",
             "-T", Path.Combine(RepoPaths.Root, "tests", "Disagg.Kernel.Tests", "Guests", "link.ld"), "-o", elf, asm],
            TimeSpan.FromMinutes(2));
        Assert.True(build.ExitCode == 0, build.ToString());

        var qemu = HostProcess.Run(Qemu, ["-machine", "virt", "-nographic", "-bios", "default", "-kernel", elf], TimeSpan.FromSeconds(60));
        Assert.False(qemu.TimedOut, qemu.ToString());
        foreach (var (engine, ours) in Kernel.RunElfOnEachEngine(elf))
        {
            Assert.True(ours.ExitCode == 0, engine + ": " + ours);
            var expected = ours.StdOut.Trim();
            Assert.Equal(2 * (256 + 1088), expected.Length);
            Assert.EndsWith(expected, qemu.StdOut.Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n'), StringComparison.Ordinal);
        }
    }

    /// <summary>s0 (x8) points at 1088 bytes of random data; x9 is scratch; every other register gets random values and random ops.</summary>
    private static string Program(int seed)
    {
        var r = new Random(seed);
        var regs = Enumerable.Range(5, 27).Where(i => i is not (8 or 9)).Select(i => "x" + i).ToArray();
        var s = new StringBuilder();
        s.AppendLine(".section .text.start\n.global _start\n_start:\n  la x8, data\n  la sp, stack_top\n  li x1, 0\n  li x3, 0\n  li x4, 0");
        foreach (var reg in regs)
        {
            long[] choices = [0, 1, -1, long.MaxValue, long.MinValue, r.NextInt64(long.MinValue, long.MaxValue), r.Next(-100, 100)];
            s.AppendLine(CultureInfo.InvariantCulture, $"  li {reg}, {choices[r.Next(choices.Length)]}");
        }

        for (var n = 0; n < 400; n++)
        {
            var k = r.NextDouble();
            string d = regs[r.Next(regs.Length)], a = regs[r.Next(regs.Length)], b = regs[r.Next(regs.Length)];
            s.AppendLine(k switch
            {
                < 0.35 => $"  {Ops3[r.Next(Ops3.Length)]} {d}, {a}, {b}",
                < 0.55 => $"  {OpsImm[r.Next(OpsImm.Length)]} {d}, {a}, {r.Next(-2048, 2048)}",
                < 0.60 => $"  {(r.Next(2) == 0 ? "slliw" : "sraiw")} {d}, {a}, {r.Next(32)}",
                < 0.65 => $"  {(r.Next(3) switch { 0 => "slli", 1 => "srli", _ => "srai" })} {d}, {a}, {r.Next(64)}",
                < 0.70 => $"  lui {d}, {r.Next(0x100000)}",
                < 0.80 => $"  {Loads[r.Next(Loads.Length)]} {d}, {r.Next(-64, 1000)}(x8)",
                < 0.90 => $"  {Stores[r.Next(Stores.Length)]} {a}, {r.Next(-64, 1000)}(x8)",
                _ => $"  addi x9, x8, {r.Next(120) * 8}\n  {Amos[r.Next(Amos.Length)]} {d}, {a}, (x9)",
            });
        }

        s.AppendLine("  la x9, regs");
        for (var i = 1; i < 32; i++)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  sd x{i}, {i * 8}(x9)");
        }

        // Print regs (256 bytes) and data (1088 bytes, from 64 before s0) as hex through legacy putchar, then shut down.
        s.AppendLine("""
              la t0, regs
              addi t1, t0, 256
              call dump
              addi t0, x8, -64
              addi t1, t0, 1088
              call dump
              li a7, 0x53525354
              li a6, 0
              li a0, 0
              li a1, 0
              ecall
            1: j 1b
            dump:
              mv t5, ra
            2: lbu t2, 0(t0)
              srli a0, t2, 4
              call digit
              andi a0, t2, 15
              call digit
              addi t0, t0, 1
              bne t0, t1, 2b
              jr t5
            digit:
              la t4, digits
              add t4, t4, a0
              lbu a0, 0(t4)
              li a7, 1
              ecall
              ret
            .data
            digits: .ascii "0123456789abcdef"
            .align 4
            regs: .space 256
            .align 6
            pre: .space 64
            data:
            """);
        s.Append("  .byte ").AppendJoin(',', Enumerable.Range(0, 1100).Select(_ => r.Next(256))).AppendLine();
        s.AppendLine(".bss\n.space 4096\nstack_top:");
        return s.ToString();
    }
}
