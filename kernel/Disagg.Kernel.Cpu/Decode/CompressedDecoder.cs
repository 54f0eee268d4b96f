namespace Disagg.Kernel.Cpu.Decode;

/// <summary>
/// Decodes the C extension straight to the same ops as the 32-bit forms, with <c>Len = 1</c>.
/// RV32 and RV64 differ here: 001 in quadrant 1 is C.JAL on RV32 and C.ADDIW on RV64; 011/111 in
/// quadrants 0 and 2 are C.FLW/C.FSW(SP) on RV32 and C.LD/C.SD(SP) on RV64; shift amounts with
/// bit 5 set are reserved on RV32; C.SUBW/C.ADDW exist only on RV64.
/// </summary>
internal static class CompressedDecoder
{
    public static DecodedOp Decode(ushort c, bool rv64)
    {
        var op = (c & 3) switch
        {
            0 => Quadrant0(c, rv64),
            1 => Quadrant1(c, rv64),
            _ => Quadrant2(c, rv64),
        };
        op.Len = 1;
        return op;
    }

    private static DecodedOp Illegal(ushort c) => Decoder.Illegal(c, 1);

    private static byte Sink(int r) => r == 0 ? Decoder.Sink : (byte)r;

    private static int Bit(int c, int from, int to) => ((c >> from) & 1) << to;

    private static DecodedOp Make(Op kind, int rd, int rs1, int rs2, long imm) =>
        new() { Kind = kind, Rd = (byte)rd, Rs1 = (byte)rs1, Rs2 = (byte)rs2, Imm = imm };

    private static DecodedOp Quadrant0(ushort raw, bool rv64)
    {
        int c = raw;
        var rdp = 8 + ((c >> 2) & 7);
        var rs1p = 8 + ((c >> 7) & 7);
        var uimmW = ((c >> 7) & 0x38) | Bit(c, 6, 2) | Bit(c, 5, 6);
        var uimmD = ((c >> 7) & 0x38) | ((c << 1) & 0xC0);
        switch (c >> 13)
        {
            case 0:
                var nz = ((c >> 7) & 0x30) | ((c >> 1) & 0x3C0) | Bit(c, 6, 2) | Bit(c, 5, 3);
                return nz == 0 ? Illegal(raw) : Make(rv64 ? Op.Addi : Op.Addiw, rdp, 2, 0, nz);
            case 1:
                return Make(Op.Fld, rdp, rs1p, 0, uimmD);
            case 2:
                return Make(Op.Lw, rdp, rs1p, 0, uimmW);
            case 3:
                return rv64 ? Make(Op.Ld, rdp, rs1p, 0, uimmD) : Make(Op.Flw, rdp, rs1p, 0, uimmW);
            case 5:
                return Make(Op.Fsd, 0, rs1p, rdp, uimmD);
            case 6:
                return Make(Op.Sw, 0, rs1p, rdp, uimmW);
            case 7:
                return rv64 ? Make(Op.Sd, 0, rs1p, rdp, uimmD) : Make(Op.Fsw, 0, rs1p, rdp, uimmW);
            default:
                return Illegal(raw);
        }
    }

    private static DecodedOp Quadrant1(ushort raw, bool rv64)
    {
        int c = raw;
        var rd = (c >> 7) & 31;
        var imm6 = (long)((((c >> 2) & 31) | Bit(c, 12, 5)) << 26 >> 26);
        var rdp = 8 + ((c >> 7) & 7);
        var rs2p = 8 + ((c >> 2) & 7);
        switch (c >> 13)
        {
            case 0:
                return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(rv64 ? Op.Addi : Op.Addiw, rd, rd, 0, imm6);
            case 1:
                if (!rv64)
                {
                    return Make(Op.Jal32, 1, 0, 0, ImmCj(c));
                }

                return rd == 0 ? Illegal(raw) : Make(Op.Addiw, rd, rd, 0, imm6);
            case 2:
                return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(Op.Li, rd, 0, 0, imm6);
            case 3:
                if (rd == 2)
                {
                    var nz = (long)((Bit(c, 12, 9) | Bit(c, 6, 4) | Bit(c, 5, 6) | Bit(c, 4, 8) | Bit(c, 3, 7) | Bit(c, 2, 5)) << 22 >> 22);
                    return nz == 0 ? Illegal(raw) : Make(rv64 ? Op.Addi : Op.Addiw, 2, 2, 0, nz);
                }

                if (imm6 == 0)
                {
                    return Illegal(raw);
                }

                return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(Op.Lui, rd, 0, 0, imm6 << 12);
            case 4:
                return Arithmetic(raw, rv64, rdp, rs2p, imm6);
            case 5:
                return Make(rv64 ? Op.Jal : Op.Jal32, Decoder.Sink, 0, 0, ImmCj(c));
            case 6:
                return Make(Op.Beq, 0, rdp, 0, ImmCb(c));
            default:
                return Make(Op.Bne, 0, rdp, 0, ImmCb(c));
        }
    }

    private static DecodedOp Arithmetic(ushort raw, bool rv64, int rdp, int rs2p, long imm6)
    {
        int c = raw;
        var shamt = (c >> 2 & 31) | Bit(c, 12, 5);
        switch ((c >> 10) & 3)
        {
            case 0:
                return !rv64 && shamt >= 32 ? Illegal(raw) : Make(rv64 ? Op.Srli : Op.Srliw, rdp, rdp, 0, shamt);
            case 1:
                return !rv64 && shamt >= 32 ? Illegal(raw) : Make(rv64 ? Op.Srai : Op.Sraiw, rdp, rdp, 0, shamt);
            case 2:
                return Make(Op.Andi, rdp, rdp, 0, imm6);
            default:
                break;
        }

        var sel = (c >> 5) & 3;
        if ((c & 0x1000) == 0)
        {
            return sel switch
            {
                0 => Make(rv64 ? Op.Sub : Op.Subw, rdp, rdp, rs2p, 0),
                1 => Make(Op.Xor, rdp, rdp, rs2p, 0),
                2 => Make(Op.Or, rdp, rdp, rs2p, 0),
                _ => Make(Op.And, rdp, rdp, rs2p, 0),
            };
        }

        return (sel, rv64) switch
        {
            (0, true) => Make(Op.Subw, rdp, rdp, rs2p, 0),
            (1, true) => Make(Op.Addw, rdp, rdp, rs2p, 0),
            _ => Illegal(raw),
        };
    }

    private static DecodedOp Quadrant2(ushort raw, bool rv64)
    {
        int c = raw;
        var rd = (c >> 7) & 31;
        var rs2 = (c >> 2) & 31;
        var shamt = rs2 | Bit(c, 12, 5);
        var uimmLwsp = Bit(c, 12, 5) | ((c >> 2) & 0x1C) | ((c << 4) & 0xC0);
        var uimmLdsp = Bit(c, 12, 5) | ((c >> 2) & 0x18) | ((c << 4) & 0x1C0);
        var uimmSwsp = ((c >> 7) & 0x3C) | ((c >> 1) & 0xC0);
        var uimmSdsp = ((c >> 7) & 0x38) | ((c >> 1) & 0x1C0);
        switch (c >> 13)
        {
            case 0:
                if (!rv64 && shamt >= 32)
                {
                    return Illegal(raw);
                }

                return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(rv64 ? Op.Slli : Op.Slliw, rd, rd, 0, shamt);
            case 1:
                return Make(Op.Fld, rd, 2, 0, uimmLdsp);
            case 2:
                return rd == 0 ? Illegal(raw) : Make(Op.Lw, rd, 2, 0, uimmLwsp);
            case 3:
                if (rv64)
                {
                    return rd == 0 ? Illegal(raw) : Make(Op.Ld, rd, 2, 0, uimmLdsp);
                }

                return Make(Op.Flw, rd, 2, 0, uimmLwsp);
            case 4:
                return Jumps(raw, rv64, rd, rs2);
            case 5:
                return Make(Op.Fsd, 0, 2, rs2, uimmSdsp);
            case 6:
                return Make(Op.Sw, 0, 2, rs2, uimmSwsp);
            default:
                return rv64 ? Make(Op.Sd, 0, 2, rs2, uimmSdsp) : Make(Op.Fsw, 0, 2, rs2, uimmSwsp);
        }
    }

    private static DecodedOp Jumps(ushort raw, bool rv64, int rd, int rs2)
    {
        if ((raw & 0x1000) == 0)
        {
            if (rs2 == 0)
            {
                return rd == 0 ? Illegal(raw) : Make(rv64 ? Op.Jalr : Op.Jalr32, Decoder.Sink, rd, 0, 0);
            }

            return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(Op.Mv, rd, rs2, 0, 0);
        }

        if (rs2 == 0)
        {
            return rd == 0 ? new DecodedOp { Kind = Op.Ebreak } : Make(rv64 ? Op.Jalr : Op.Jalr32, 1, rd, 0, 0);
        }

        return rd == 0 ? new DecodedOp { Kind = Op.Nop } : Make(rv64 ? Op.Add : Op.Addw, Sink(rd), rd, rs2, 0);
    }

    private static long ImmCj(int c) =>
        (Bit(c, 12, 11) | Bit(c, 11, 4) | ((c >> 1) & 0x300) | Bit(c, 8, 10) | Bit(c, 7, 6) | Bit(c, 6, 7)
         | ((c >> 2) & 0xE) | Bit(c, 2, 5)) << 20 >> 20;

    private static long ImmCb(int c) =>
        (Bit(c, 12, 8) | ((c >> 7) & 0x18) | ((c << 1) & 0xC0) | ((c >> 2) & 6) | Bit(c, 2, 5)) << 23 >> 23;
}
