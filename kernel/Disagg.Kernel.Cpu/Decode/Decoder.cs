namespace Disagg.Kernel.Cpu.Decode;

/// <summary>
/// Decodes one 32-bit instruction (RV32/RV64 I, M, A, Zicsr, Zifencei and the privileged ops) into a
/// <see cref="DecodedOp"/>. Anything reserved or not implemented decodes to <see cref="Op.Illegal"/>
/// with the raw bits as stval: the decoder never throws, whatever the guest wrote.
/// F and D live in <see cref="FloatDecoder"/>, C in <see cref="CompressedDecoder"/>.
/// </summary>
internal static class Decoder
{
    public const byte Sink = 32;

    public static DecodedOp Decode(uint raw, bool rv64)
    {
        if ((raw & 3) != 3)
        {
            return CompressedDecoder.Decode((ushort)raw, rv64);
        }

        var op = DecodeFull(raw, rv64);
        op.Len = 2;
        return op;
    }

    public static DecodedOp Illegal(uint raw, byte len) => new() { Kind = Op.Illegal, Imm = raw, Len = len };

    private static byte Rd(uint raw)
    {
        var r = (byte)((raw >> 7) & 31);
        return r == 0 ? Sink : r;
    }

    private static byte Rs1(uint raw) => (byte)((raw >> 15) & 31);

    private static byte Rs2(uint raw) => (byte)((raw >> 20) & 31);

    private static uint Funct3(uint raw) => (raw >> 12) & 7;

    private static uint Funct7(uint raw) => raw >> 25;

    internal static long ImmI(uint raw) => (int)raw >> 20;

    internal static long ImmS(uint raw) => ((int)raw >> 25 << 5) | (int)((raw >> 7) & 31);

    private static long ImmB(uint raw) =>
        ((int)raw >> 31 << 12) | (int)((raw << 4) & 0x800) | (int)((raw >> 20) & 0x7E0) | (int)((raw >> 7) & 0x1E);

    private static long ImmJ(uint raw) =>
        ((int)raw >> 31 << 20) | (int)(raw & 0xFF000) | (int)((raw >> 9) & 0x800) | (int)((raw >> 20) & 0x7FE);

    private static DecodedOp R(Op kind, uint raw) => new() { Kind = kind, Rd = Rd(raw), Rs1 = Rs1(raw), Rs2 = Rs2(raw) };

    private static DecodedOp I(Op kind, uint raw, long imm) => new() { Kind = kind, Rd = Rd(raw), Rs1 = Rs1(raw), Imm = imm };

    private static DecodedOp DecodeFull(uint raw, bool rv64)
    {
        var f3 = Funct3(raw);
        switch (raw & 0x7F)
        {
            case 0x37:
                return I(Op.Lui, raw, (int)(raw & 0xFFFFF000));
            case 0x17:
                return I(rv64 ? Op.Auipc : Op.Auipc32, raw, (int)(raw & 0xFFFFF000));
            case 0x6F:
                return I(rv64 ? Op.Jal : Op.Jal32, raw, ImmJ(raw));
            case 0x67:
                return f3 == 0 ? I(rv64 ? Op.Jalr : Op.Jalr32, raw, ImmI(raw)) : Illegal(raw, 2);
            case 0x63:
                return DecodeBranch(raw, f3);
            case 0x03:
                return DecodeLoad(raw, f3, rv64);
            case 0x23:
                return DecodeStore(raw, f3, rv64);
            case 0x13:
                return DecodeOpImm(raw, f3, rv64);
            case 0x1B:
                return rv64 ? DecodeOpImm32(raw, f3) : Illegal(raw, 2);
            case 0x33:
                return DecodeOp(raw, f3, rv64);
            case 0x3B:
                return rv64 ? DecodeOp32(raw, f3) : Illegal(raw, 2);
            case 0x0F:
                return f3 switch
                {
                    0 => Fence(raw),
                    1 => new DecodedOp { Kind = Op.FenceI },
                    _ => Illegal(raw, 2),
                };
            case 0x73:
                return DecodeSystem(raw, f3);
            case 0x2F:
                return DecodeAtomic(raw, f3, rv64);
            case 0x07:
            case 0x27:
            case 0x43:
            case 0x47:
            case 0x4B:
            case 0x4F:
            case 0x53:
                return FloatDecoder.Decode(raw, rv64);
            default:
                return Illegal(raw, 2);
        }
    }

    private static DecodedOp DecodeBranch(uint raw, uint f3)
    {
        var kind = f3 switch
        {
            0 => Op.Beq,
            1 => Op.Bne,
            4 => Op.Blt,
            5 => Op.Bge,
            6 => Op.Bltu,
            7 => Op.Bgeu,
            _ => Op.Illegal,
        };
        return kind == Op.Illegal
            ? Illegal(raw, 2)
            : new DecodedOp { Kind = kind, Rs1 = Rs1(raw), Rs2 = Rs2(raw), Imm = ImmB(raw) };
    }

    private static DecodedOp DecodeLoad(uint raw, uint f3, bool rv64)
    {
        var kind = f3 switch
        {
            0 => Op.Lb,
            1 => Op.Lh,
            2 => Op.Lw,
            3 when rv64 => Op.Ld,
            4 => Op.Lbu,
            5 => Op.Lhu,
            6 when rv64 => Op.Lwu,
            _ => Op.Illegal,
        };
        return kind == Op.Illegal ? Illegal(raw, 2) : I(kind, raw, ImmI(raw));
    }

    private static DecodedOp DecodeStore(uint raw, uint f3, bool rv64)
    {
        var kind = f3 switch
        {
            0 => Op.Sb,
            1 => Op.Sh,
            2 => Op.Sw,
            3 when rv64 => Op.Sd,
            _ => Op.Illegal,
        };
        return kind == Op.Illegal
            ? Illegal(raw, 2)
            : new DecodedOp { Kind = kind, Rs1 = Rs1(raw), Rs2 = Rs2(raw), Imm = ImmS(raw) };
    }

    private static DecodedOp DecodeOpImm(uint raw, uint f3, bool rv64)
    {
        var imm = ImmI(raw);
        var shamtOk = rv64 ? (raw >> 26 & 0x2F) == 0 : (raw >> 25 & 0x5F) == 0;
        var shamt = rv64 ? (raw >> 20) & 63 : (raw >> 20) & 31;
        switch (f3)
        {
            case 0:
                if (Rd(raw) == Sink)
                {
                    return new DecodedOp { Kind = Op.Nop };
                }

                if (Rs1(raw) == 0)
                {
                    return I(Op.Li, raw, imm);
                }

                return imm == 0 ? I(Op.Mv, raw, 0) : I(rv64 ? Op.Addi : Op.Addiw, raw, imm);
            case 2:
                return I(Op.Slti, raw, imm);
            case 3:
                return I(Op.Sltiu, raw, imm);
            case 4:
                return I(Op.Xori, raw, imm);
            case 6:
                return I(Op.Ori, raw, imm);
            case 7:
                return I(Op.Andi, raw, imm);
            case 1:
                return shamtOk && (raw >> 30 & 1) == 0 ? I(rv64 ? Op.Slli : Op.Slliw, raw, shamt) : Illegal(raw, 2);
            default:
                if (!shamtOk)
                {
                    return Illegal(raw, 2);
                }

                return (raw >> 30 & 1) == 0
                    ? I(rv64 ? Op.Srli : Op.Srliw, raw, shamt)
                    : I(rv64 ? Op.Srai : Op.Sraiw, raw, shamt);
        }
    }

    private static DecodedOp DecodeOpImm32(uint raw, uint f3)
    {
        var shamt = (raw >> 20) & 31;
        return f3 switch
        {
            0 => I(Op.Addiw, raw, ImmI(raw)),
            1 when Funct7(raw) == 0 => I(Op.Slliw, raw, shamt),
            5 when Funct7(raw) == 0 => I(Op.Srliw, raw, shamt),
            5 when Funct7(raw) == 0x20 => I(Op.Sraiw, raw, shamt),
            _ => Illegal(raw, 2),
        };
    }

    /// <summary>
    /// FENCE. Guest memory is plain host memory, shared with other harts' threads and with service processes
    /// (rings), so a fence must order what the host could reorder. An x86 host keeps loads after loads, stores
    /// after stores and stores after loads in order; only a store may pass a later load. So only a fence that
    /// orders earlier stores before later loads costs a host barrier — ring.h's final checks (write the event
    /// index, `fence rw,rw`, read the producer index) are exactly that, and without it the backend's response
    /// and the frontend's re-check can miss each other (a lost wake-up: the ring stalls). FENCE.TSO leaves
    /// store-to-load unordered by definition. Other hosts get a barrier for every fence.
    /// </summary>
    private static DecodedOp Fence(uint raw)
    {
        const uint W = 1, R = 2;
        var fm = raw >> 28;
        var predecessor = (raw >> 24) & 0xF;
        var successor = (raw >> 20) & 0xF;
        var needed = System.Runtime.Intrinsics.X86.X86Base.IsSupported
            ? (predecessor & W) != 0 && (successor & R) != 0 && fm != 0b1000
            : (predecessor | successor) != 0;
        return new DecodedOp { Kind = needed ? Op.Fence : Op.Nop };
    }

    private static DecodedOp DecodeOp(uint raw, uint f3, bool rv64)
    {
        var f7 = Funct7(raw);
        Op kind;
        if (f7 == 0)
        {
            kind = f3 switch
            {
                0 => rv64 ? Op.Add : Op.Addw,
                1 => rv64 ? Op.Sll : Op.Sllw,
                2 => Op.Slt,
                3 => Op.Sltu,
                4 => Op.Xor,
                5 => rv64 ? Op.Srl : Op.Srlw,
                6 => Op.Or,
                _ => Op.And,
            };
        }
        else if (f7 == 0x20)
        {
            kind = f3 switch
            {
                0 => rv64 ? Op.Sub : Op.Subw,
                5 => rv64 ? Op.Sra : Op.Sraw,
                _ => Op.Illegal,
            };
        }
        else if (f7 == 1)
        {
            kind = f3 switch
            {
                0 => rv64 ? Op.Mul : Op.Mulw,
                1 => rv64 ? Op.Mulh : Op.Mulh32,
                2 => rv64 ? Op.Mulhsu : Op.Mulhsu32,
                3 => rv64 ? Op.Mulhu : Op.Mulhu32,
                4 => rv64 ? Op.Div : Op.Divw,
                5 => rv64 ? Op.Divu : Op.Divuw,
                6 => rv64 ? Op.Rem : Op.Remw,
                _ => rv64 ? Op.Remu : Op.Remuw,
            };
        }
        else
        {
            kind = Op.Illegal;
        }

        return kind == Op.Illegal ? Illegal(raw, 2) : R(kind, raw);
    }

    private static DecodedOp DecodeOp32(uint raw, uint f3)
    {
        var kind = (Funct7(raw), f3) switch
        {
            (0, 0) => Op.Addw,
            (0x20, 0) => Op.Subw,
            (0, 1) => Op.Sllw,
            (0, 5) => Op.Srlw,
            (0x20, 5) => Op.Sraw,
            (1, 0) => Op.Mulw,
            (1, 4) => Op.Divw,
            (1, 5) => Op.Divuw,
            (1, 6) => Op.Remw,
            (1, 7) => Op.Remuw,
            _ => Op.Illegal,
        };
        return kind == Op.Illegal ? Illegal(raw, 2) : R(kind, raw);
    }

    private static DecodedOp DecodeSystem(uint raw, uint f3)
    {
        if (f3 == 0)
        {
            switch (raw)
            {
                case 0x00000073:
                    return new DecodedOp { Kind = Op.Ecall };
                case 0x00100073:
                    return new DecodedOp { Kind = Op.Ebreak };
                case 0x10200073:
                    return new DecodedOp { Kind = Op.Sret };
                case 0x10500073:
                    return new DecodedOp { Kind = Op.Wfi };
                default:
                    break;
            }

            if (Funct7(raw) == 0x09 && ((raw >> 7) & 31) == 0)
            {
                return new DecodedOp { Kind = Op.SfenceVma, Rs1 = Rs1(raw), Rs2 = Rs2(raw), Imm = raw };
            }

            return Illegal(raw, 2);
        }

        var kind = f3 switch
        {
            1 => Op.Csrrw,
            2 => Op.Csrrs,
            3 => Op.Csrrc,
            5 => Op.Csrrwi,
            6 => Op.Csrrsi,
            7 => Op.Csrrci,
            _ => Op.Illegal,
        };
        if (kind == Op.Illegal)
        {
            return Illegal(raw, 2);
        }

        // Imm keeps the CSR number in bits 0-11 and the raw instruction above it, for stval on an illegal access.
        return new DecodedOp
        {
            Kind = kind,
            Rd = Rd(raw),
            Rs1 = Rs1(raw),
            Rm = (byte)(((raw >> 7) & 31) == 0 ? 1 : 0),
            Imm = (long)(((ulong)raw << 12) | (raw >> 20)),
        };
    }

    private static DecodedOp DecodeAtomic(uint raw, uint f3, bool rv64)
    {
        var isDouble = f3 == 3;
        if (f3 != 2 && !(isDouble && rv64))
        {
            return Illegal(raw, 2);
        }

        var funct5 = raw >> 27;
        var kind = funct5 switch
        {
            0x02 when Rs2(raw) == 0 => Op.LrW,
            0x03 => Op.ScW,
            0x01 => Op.AmoSwapW,
            0x00 => Op.AmoAddW,
            0x04 => Op.AmoXorW,
            0x0C => Op.AmoAndW,
            0x08 => Op.AmoOrW,
            0x10 => Op.AmoMinW,
            0x14 => Op.AmoMaxW,
            0x18 => Op.AmoMinuW,
            0x1C => Op.AmoMaxuW,
            _ => Op.Illegal,
        };
        if (kind == Op.Illegal)
        {
            return Illegal(raw, 2);
        }

        if (isDouble)
        {
            kind += Op.LrD - Op.LrW;
        }

        return R(kind, raw);
    }
}
