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

    private static byte[] Elf(IReadOnlyList<(ulong At, byte[] Data, ulong MemSize)> segments, ulong entry, bool is64)
    {
        var ehsize = is64 ? 64 : 52;
        var phentsize = is64 ? 56 : 32;
        var file = new List<byte>(new byte[ehsize + (phentsize * segments.Count)]);
        var offsets = new List<int>();
        foreach (var s in segments)
        {
            offsets.Add(file.Count);
            file.AddRange(s.Data);
        }

        var b = file.ToArray();
        var h = b.AsSpan();
        "\x7F"u8.CopyTo(h);
        "ELF"u8.CopyTo(h[1..]);
        h[4] = (byte)(is64 ? 2 : 1);
        h[5] = 1;
        h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 243); // EM_RISCV
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(h[24..], entry);
            BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[52..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[54..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[56..], (ushort)segments.Count);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)entry);
            BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[40..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[42..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[44..], (ushort)segments.Count);
        }

        for (var i = 0; i < segments.Count; i++)
        {
            var p = h[(ehsize + (i * phentsize))..];
            var (at, data, memSize) = segments[i];
            BinaryPrimitives.WriteUInt32LittleEndian(p, 1); // PT_LOAD
            if (is64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 7);
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(p[16..], at);
                BinaryPrimitives.WriteUInt64LittleEndian(p[24..], at);
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)data.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(p[40..], memSize);
                BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 4096);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)offsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)at);
                BinaryPrimitives.WriteUInt32LittleEndian(p[12..], (uint)at);
                BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(p[20..], (uint)memSize);
                BinaryPrimitives.WriteUInt32LittleEndian(p[24..], 7);
                BinaryPrimitives.WriteUInt32LittleEndian(p[28..], 4096);
            }
        }

        return b;
    }
}
