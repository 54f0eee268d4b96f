using Disagg.TestSupport;
using System.Buffers.Binary;
using System.Text;

namespace Disagg.Toolstack.Tests;

/// <summary>
/// Tiny hand-assembled PV guests for end-to-end tests (RV64 or RV32 ELF): print a line with
/// console_io (it reaches the kernel message log, hence the daemon's console), then spin, power
/// off, reboot or crash through SBI SRST. Only instructions both widths share.
/// </summary>
internal static class TestGuest
{
    private const ulong Base = 0x8000_0000;
    private const int A0 = 10, A1 = 11, A2 = 12, A6 = 16, A7 = 17;

    public enum End
    {
        Spin,
        Poweroff,
        Reboot,
        Crash,
    }

    /// <summary>Writes a config and its kernel into <paramref name="dir"/>; returns the config path.</summary>
    public static string WriteConfig(string dir, string name, string text, End end, string extra = "", bool rv32 = false)
    {
        File.WriteAllBytes(Path.Combine(dir, name + ".elf"), Build(text, end, rv32));
        var path = Path.Combine(dir, name + ".cfg");
        File.WriteAllText(path, $"name = \"{name}\"\nkernel = \"{name}.elf\"\nmemory = 8\n{extra}\n");
        return path;
    }

    public static byte[] Build(string text, End end, bool rv32 = false)
    {
        var code = new List<uint>();
        var data = Encoding.ASCII.GetBytes(text);
        const ulong dataAt = Base + 0x1000;
        Li(code, A0, 0); // CONSOLEIO_write
        Li(code, A1, data.Length);
        var delta = (long)(dataAt - (Base + (ulong)(code.Count * 4)));
        var lo = (int)((delta << 52) >> 52);
        code.Add(0x17u | ((uint)A2 << 7) | ((uint)(delta - lo) & 0xFFFFF000)); // auipc a2
        code.Add(Addi(A2, A2, lo));
        Li(code, A6, 18); // console_io
        Li(code, A7, 0x0A58454E); // "XEN"
        code.Add(0x73); // ecall
        if (end != End.Spin)
        {
            Li(code, A0, end == End.Reboot ? 1 : 0); // SRST type: shutdown or cold reboot
            Li(code, A1, end == End.Crash ? 1 : 0); // reason: system failure -> crash
            Li(code, A6, 0);
            Li(code, A7, 0x53525354); // "SRST"
            code.Add(0x73);
        }

        code.Add(0x6F); // jal x0, 0: spin here
        var bytes = new byte[code.Count * 4];
        for (var i = 0; i < code.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), code[i]);
        }

        return Elf([(Base, bytes, 0x1000), (dataAt, data, (ulong)Math.Max(8, data.Length))], Base, !rv32);
    }

    private static uint Addi(int rd, int rs1, int imm) => ((uint)imm << 20) | ((uint)rs1 << 15) | ((uint)rd << 7) | 0x13;

    private static void Li(List<uint> code, int rd, int value)
    {
        var lo = (value << 20) >> 20;
        var hi = value - lo;
        if (hi != 0)
        {
            code.Add(((uint)hi & 0xFFFFF000) | ((uint)rd << 7) | 0x37); // lui
            if (lo != 0)
            {
                code.Add(Addi(rd, rd, lo));
            }

            return;
        }

        code.Add(Addi(rd, 0, lo));
    }

    private static byte[] Elf(IReadOnlyList<(ulong At, byte[] Data, ulong MemSize)> segments, ulong entry, bool is64) =>
        ElfWriter.Build([.. segments.Select(s => new ElfSegment(s.At, s.Data, s.MemSize))], entry, is64);
}
