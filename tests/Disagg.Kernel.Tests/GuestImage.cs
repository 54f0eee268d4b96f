using System.Buffers.Binary;

namespace Disagg.Kernel.Tests;

/// <summary>
/// Hand-built RISC-V ELF images for runner tests: a tiny S-mode payload at 0x8020_0000 (where QEMU's
/// OpenSBI jumps too) that prints a message through the SBI and shuts down with a chosen reason.
/// </summary>
internal static class GuestImage
{
    public const ulong LoadAddress = 0x8020_0000;
    private const uint Srst = 0x53525354;
    private const uint Dbcn = 0x4442434E;
    private const uint Hsm = 0x48534D;

    /// <summary>Prints <paramref name="legacyText"/> with legacy putchar and <paramref name="dbcnText"/> with DBCN write, then SRST <paramref name="resetType"/> (0 shutdown, 1 cold reboot) with <paramref name="reason"/>.</summary>
    public static byte[] Printer(bool is64, string legacyText, string dbcnText, uint reason, uint resetType = 0)
    {
        var code = new List<uint>
        {
            Auipc(8, 0),                 // 0: s0 = base
            Addi(8, 8, 0),               // 4: s0 += message offset (patched below)
            Lbu(10, 8, 0),               // 8: loop: a0 = *s0
            Beq(10, 0, 20),              // 12: if 0 -> done (12 + 20 = 32)
            Addi(17, 0, 1),              // 16: a7 = 1 (legacy putchar)
            0x00000073,                  // 20: ecall
            Addi(8, 8, 1),               // 24: s0++
            Jal(0, -20),                 // 28: -> loop
        };
        code.AddRange(LoadImmediate(17, Dbcn));   // done: a7 = DBCN
        code.Add(Addi(16, 0, 0));                 // a6 = write
        code.Add(Addi(10, 0, dbcnText.Length));   // a0 = length
        code.Add(Auipc(11, 0));                   // a1 = address of the DBCN text (patched)
        var dbcnFixup = code.Count - 1;
        code.Add(Addi(11, 11, 0));
        code.Add(Addi(12, 0, 0));                 // a2 = high half of the address
        code.Add(0x00000073);
        code.AddRange(LoadImmediate(17, Srst));
        code.Add(Addi(16, 0, 0));
        code.Add(Addi(10, 0, (int)resetType));    // reset type
        code.AddRange(LoadImmediate(11, reason));
        code.Add(0x00000073);
        code.Add(Jal(0, 0));

        var legacyOffset = code.Count * 4;
        var dbcnOffset = legacyOffset + legacyText.Length + 1;
        code[1] = Addi(8, 8, legacyOffset);
        code[dbcnFixup + 1] = Addi(11, 11, dbcnOffset - (dbcnFixup * 4));
        var image = new byte[dbcnOffset + dbcnText.Length];
        for (var i = 0; i < code.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(i * 4), code[i]);
        }

        System.Text.Encoding.ASCII.GetBytes(legacyText).CopyTo(image, legacyOffset);
        System.Text.Encoding.ASCII.GetBytes(dbcnText).CopyTo(image, dbcnOffset);
        return Elf(is64, LoadAddress, image, (ulong)image.Length);
    }

    /// <summary>Stops its only hart with SBI HSM hart_stop (and would spin if that returned).</summary>
    public static byte[] HartStopper()
    {
        uint[] code = [.. LoadImmediate(17, Hsm), Addi(16, 0, 1), 0x00000073, Jal(0, 0)];
        var image = new byte[code.Length * 4];
        for (var i = 0; i < code.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(i * 4), code[i]);
        }

        return Elf(true, LoadAddress, image, (ulong)image.Length);
    }

    /// <summary>An endless loop.</summary>
    public static byte[] Spinner() => Elf(true, LoadAddress, BitConverter.GetBytes(Jal(0, 0)), 4);

    /// <summary>A minimal ELF with one PT_LOAD segment of <paramref name="data"/> at <paramref name="address"/> (entry there too).</summary>
    public static byte[] Elf(bool is64, ulong address, byte[] data, ulong memorySize)
    {
        var headerSize = is64 ? 64 : 52;
        var phSize = is64 ? 56 : 32;
        var offset = headerSize + phSize;
        var file = new byte[offset + data.Length];
        var f = file.AsSpan();
        f[0] = 0x7F;
        f[1] = (byte)'E';
        f[2] = (byte)'L';
        f[3] = (byte)'F';
        f[4] = (byte)(is64 ? 2 : 1);
        f[5] = 1;
        f[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(f[16..], 2);   // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(f[18..], 243); // EM_RISCV
        BinaryPrimitives.WriteUInt32LittleEndian(f[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(f[24..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(f[32..], (ulong)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[52..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[54..], (ushort)phSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[56..], 1);
            var ph = f[headerSize..];
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 7);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], address);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], memorySize);
            BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 4096);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(f[24..], (uint)address);
            BinaryPrimitives.WriteUInt32LittleEndian(f[28..], (uint)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[40..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[42..], (ushort)phSize);
            BinaryPrimitives.WriteUInt16LittleEndian(f[44..], 1);
            var ph = f[headerSize..];
            BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], (uint)offset);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[8..], (uint)address);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[12..], (uint)address);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[16..], (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[20..], (uint)memorySize);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[24..], 7);
            BinaryPrimitives.WriteUInt32LittleEndian(ph[28..], 4096);
        }

        data.CopyTo(file, offset);
        return file;
    }

    private static uint I(uint op, int rd, uint f3, int rs1, int imm) =>
        ((uint)(imm & 0xFFF) << 20) | ((uint)rs1 << 15) | (f3 << 12) | ((uint)rd << 7) | op;

    private static uint Addi(int rd, int rs1, int imm) => I(0x13, rd, 0, rs1, imm);

    private static uint Lbu(int rd, int rs1, int imm) => I(0x03, rd, 4, rs1, imm);

    private static uint Auipc(int rd, int imm) => ((uint)imm & 0xFFFFF000) | ((uint)rd << 7) | 0x17;

    private static uint Beq(int rs1, int rs2, int imm) =>
        ((uint)((imm >> 12) & 1) << 31) | ((uint)((imm >> 5) & 0x3F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15)
        | ((uint)((imm >> 1) & 0xF) << 8) | ((uint)((imm >> 11) & 1) << 7) | 0x63;

    private static uint Jal(int rd, int imm) =>
        ((uint)((imm >> 20) & 1) << 31) | ((uint)((imm >> 1) & 0x3FF) << 21) | ((uint)((imm >> 11) & 1) << 20)
        | ((uint)((imm >> 12) & 0xFF) << 12) | ((uint)rd << 7) | 0x6F;

    /// <summary>lui + addi for a 32-bit constant (sign-extended, as li does).</summary>
    private static uint[] LoadImmediate(int rd, uint value)
    {
        var low = (int)(value << 20) >> 20;
        var high = (value - (uint)low) & 0xFFFFF000;
        return [high | ((uint)rd << 7) | 0x37, Addi(rd, rd, low)];
    }
}
