namespace Disagg.Kernel.Cpu.Decode;

/// <summary>
/// Decodes the F and D extensions. Rounding-mode fields 5 and 6 are reserved and decode as illegal;
/// 7 (dynamic) is resolved against frm when the op runs, because frm can change after decode.
/// Ops that write an integer register get the x0 sink like every other integer write.
/// </summary>
internal static class FloatDecoder
{
    public static DecodedOp Decode(uint raw, bool rv64)
    {
        var rd = (byte)((raw >> 7) & 31);
        var rs1 = (byte)((raw >> 15) & 31);
        var rs2 = (byte)((raw >> 20) & 31);
        var rm = (byte)((raw >> 12) & 7);
        var intRd = rd == 0 ? Decoder.Sink : rd;
        switch (raw & 0x7F)
        {
            case 0x07:
                return rm switch
                {
                    2 => new DecodedOp { Kind = Op.Flw, Rd = rd, Rs1 = rs1, Imm = Decoder.ImmI(raw) },
                    3 => new DecodedOp { Kind = Op.Fld, Rd = rd, Rs1 = rs1, Imm = Decoder.ImmI(raw) },
                    _ => Decoder.Illegal(raw, 2),
                };
            case 0x27:
                return rm switch
                {
                    2 => new DecodedOp { Kind = Op.Fsw, Rs1 = rs1, Rs2 = rs2, Imm = Decoder.ImmS(raw) },
                    3 => new DecodedOp { Kind = Op.Fsd, Rs1 = rs1, Rs2 = rs2, Imm = Decoder.ImmS(raw) },
                    _ => Decoder.Illegal(raw, 2),
                };
            default:
                break;
        }

        if (rm is 5 or 6 && UsesRoundingMode(raw))
        {
            return Decoder.Illegal(raw, 2);
        }

        var fmt = (raw >> 25) & 3;
        var opcode = raw & 0x7F;
        if (opcode is 0x43 or 0x47 or 0x4B or 0x4F)
        {
            if (fmt > 1)
            {
                return Decoder.Illegal(raw, 2);
            }

            var kind = (Op)((int)(fmt == 0 ? Op.FmaddS : Op.FmaddD) + (int)((opcode - 0x43) >> 2));
            return new DecodedOp { Kind = kind, Rd = rd, Rs1 = rs1, Rs2 = rs2, Rs3 = (byte)(raw >> 27), Rm = rm };
        }

        if (opcode != 0x53)
        {
            return Decoder.Illegal(raw, 2);
        }

        var f7 = raw >> 25;
        Op k;
        var writesInt = false;
        switch (f7)
        {
            case 0x00: k = Op.FaddS; break;
            case 0x01: k = Op.FaddD; break;
            case 0x04: k = Op.FsubS; break;
            case 0x05: k = Op.FsubD; break;
            case 0x08: k = Op.FmulS; break;
            case 0x09: k = Op.FmulD; break;
            case 0x0C: k = Op.FdivS; break;
            case 0x0D: k = Op.FdivD; break;
            case 0x2C: k = rs2 == 0 ? Op.FsqrtS : Op.Illegal; break;
            case 0x2D: k = rs2 == 0 ? Op.FsqrtD : Op.Illegal; break;
            case 0x10: k = rm <= 2 ? Op.FsgnjS + rm : Op.Illegal; break;
            case 0x11: k = rm <= 2 ? Op.FsgnjD + rm : Op.Illegal; break;
            case 0x14: k = rm <= 1 ? Op.FminS + rm : Op.Illegal; break;
            case 0x15: k = rm <= 1 ? Op.FminD + rm : Op.Illegal; break;
            case 0x20: k = rs2 == 1 ? Op.FcvtSD : Op.Illegal; break;
            case 0x21: k = rs2 == 0 ? Op.FcvtDS : Op.Illegal; break;
            case 0x60: k = rs2 < (rv64 ? 4 : 2) ? Op.FcvtWS + rs2 : Op.Illegal; writesInt = true; break;
            case 0x61: k = rs2 < (rv64 ? 4 : 2) ? Op.FcvtWD + rs2 : Op.Illegal; writesInt = true; break;
            case 0x68: k = rs2 < (rv64 ? 4 : 2) ? Op.FcvtSW + rs2 : Op.Illegal; break;
            case 0x69: k = rs2 < (rv64 ? 4 : 2) ? Op.FcvtDW + rs2 : Op.Illegal; break;
            case 0x70: k = rs2 != 0 ? Op.Illegal : rm == 0 ? Op.FmvXW : rm == 1 ? Op.FclassS : Op.Illegal; writesInt = true; break;
            case 0x71: k = rs2 != 0 ? Op.Illegal : rm == 0 && rv64 ? Op.FmvXD : rm == 1 ? Op.FclassD : Op.Illegal; writesInt = true; break;
            case 0x50: k = rm switch { 2 => Op.FeqS, 1 => Op.FltS, 0 => Op.FleS, _ => Op.Illegal }; writesInt = true; break;
            case 0x51: k = rm switch { 2 => Op.FeqD, 1 => Op.FltD, 0 => Op.FleD, _ => Op.Illegal }; writesInt = true; break;
            case 0x78: k = rs2 == 0 && rm == 0 ? Op.FmvWX : Op.Illegal; break;
            case 0x79: k = rs2 == 0 && rm == 0 && rv64 ? Op.FmvDX : Op.Illegal; break;
            default: k = Op.Illegal; break;
        }

        if (k == Op.Illegal)
        {
            return Decoder.Illegal(raw, 2);
        }

        return new DecodedOp { Kind = k, Rd = writesInt ? intRd : rd, Rs1 = rs1, Rs2 = rs2, Rm = rm };
    }

    /// <summary>Whether bits 14:12 are a rounding mode (and not a sub-opcode as in FSGNJ, FMIN, compares, moves).</summary>
    private static bool UsesRoundingMode(uint raw)
    {
        if ((raw & 0x7F) != 0x53)
        {
            return true;
        }

        var f7 = raw >> 25;
        return f7 is 0x00 or 0x01 or 0x04 or 0x05 or 0x08 or 0x09 or 0x0C or 0x0D or 0x2C or 0x2D
            or 0x20 or 0x21 or 0x60 or 0x61 or 0x68 or 0x69;
    }
}
