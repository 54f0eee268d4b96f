namespace Disagg.Kernel.Cpu.Tests;

/// <summary>Encoders for the instructions the tests use, straight from the ISA manual's formats.</summary>
internal static class Asm
{
    public const uint Ecall = 0x00000073;
    public const uint Ebreak = 0x00100073;
    public const uint Sret = 0x10200073;
    public const uint Wfi = 0x10500073;
    public const uint SfenceVma = 0x12000073;
    public const uint FenceI = 0x0000100F;
    public const uint Nop = 0x00000013;

    public static uint R(uint op, int rd, uint f3, int rs1, int rs2, uint f7) =>
        (f7 << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | (f3 << 12) | ((uint)rd << 7) | op;

    public static uint I(uint op, int rd, uint f3, int rs1, int imm) =>
        ((uint)(imm & 0xFFF) << 20) | ((uint)rs1 << 15) | (f3 << 12) | ((uint)rd << 7) | op;

    public static uint S(uint op, uint f3, int rs1, int rs2, int imm) =>
        ((uint)((imm >> 5) & 0x7F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | (f3 << 12) | ((uint)(imm & 0x1F) << 7) | op;

    public static uint B(uint f3, int rs1, int rs2, int imm) =>
        ((uint)((imm >> 12) & 1) << 31) | ((uint)((imm >> 5) & 0x3F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15)
        | (f3 << 12) | ((uint)((imm >> 1) & 0xF) << 8) | ((uint)((imm >> 11) & 1) << 7) | 0x63;

    public static uint Lui(int rd, int imm) => ((uint)imm & 0xFFFFF000) | ((uint)rd << 7) | 0x37;

    public static uint Jal(int rd, int imm) =>
        ((uint)((imm >> 20) & 1) << 31) | ((uint)((imm >> 1) & 0x3FF) << 21) | ((uint)((imm >> 11) & 1) << 20)
        | ((uint)((imm >> 12) & 0xFF) << 12) | ((uint)rd << 7) | 0x6F;

    public static uint Jalr(int rd, int rs1, int imm) => I(0x67, rd, 0, rs1, imm);

    public static uint Addi(int rd, int rs1, int imm) => I(0x13, rd, 0, rs1, imm);

    public static uint Addiw(int rd, int rs1, int imm) => I(0x1B, rd, 0, rs1, imm);

    public static uint Slli(int rd, int rs1, int shamt) => I(0x13, rd, 1, rs1, shamt);

    public static uint Add(int rd, int rs1, int rs2) => R(0x33, rd, 0, rs1, rs2, 0);

    public static uint Sub(int rd, int rs1, int rs2) => R(0x33, rd, 0, rs1, rs2, 0x20);

    public static uint Addw(int rd, int rs1, int rs2) => R(0x3B, rd, 0, rs1, rs2, 0);

    public static uint Srl(int rd, int rs1, int rs2) => R(0x33, rd, 5, rs1, rs2, 0);

    public static uint Mul(int rd, int rs1, int rs2) => R(0x33, rd, 0, rs1, rs2, 1);

    public static uint Mulh(int rd, int rs1, int rs2) => R(0x33, rd, 1, rs1, rs2, 1);

    public static uint Mulhu(int rd, int rs1, int rs2) => R(0x33, rd, 3, rs1, rs2, 1);

    public static uint Div(int rd, int rs1, int rs2) => R(0x33, rd, 4, rs1, rs2, 1);

    public static uint Divu(int rd, int rs1, int rs2) => R(0x33, rd, 5, rs1, rs2, 1);

    public static uint Rem(int rd, int rs1, int rs2) => R(0x33, rd, 6, rs1, rs2, 1);

    public static uint Divw(int rd, int rs1, int rs2) => R(0x3B, rd, 4, rs1, rs2, 1);

    public static uint Lb(int rd, int rs1, int imm) => I(0x03, rd, 0, rs1, imm);

    public static uint Lw(int rd, int rs1, int imm) => I(0x03, rd, 2, rs1, imm);

    public static uint Ld(int rd, int rs1, int imm) => I(0x03, rd, 3, rs1, imm);

    public static uint Lwu(int rd, int rs1, int imm) => I(0x03, rd, 6, rs1, imm);

    public static uint Sw(int rs2, int rs1, int imm) => S(0x23, 2, rs1, rs2, imm);

    public static uint Sd(int rs2, int rs1, int imm) => S(0x23, 3, rs1, rs2, imm);

    public static uint Sh(int rs2, int rs1, int imm) => S(0x23, 1, rs1, rs2, imm);

    public static uint Beq(int rs1, int rs2, int imm) => B(0, rs1, rs2, imm);

    public static uint Bne(int rs1, int rs2, int imm) => B(1, rs1, rs2, imm);

    public static uint Csrrw(int rd, uint csr, int rs1) => I(0x73, rd, 1, rs1, (int)csr);

    public static uint Csrrs(int rd, uint csr, int rs1) => I(0x73, rd, 2, rs1, (int)csr);

    public static uint Csrr(int rd, uint csr) => Csrrs(rd, csr, 0);

    public static uint Csrw(uint csr, int rs1) => Csrrw(0, csr, rs1);

    public static uint Csrrsi(int rd, uint csr, int uimm) => I(0x73, rd, 6, uimm, (int)csr);

    public static uint LrW(int rd, int rs1) => R(0x2F, rd, 2, rs1, 0, 0x02 << 2);

    public static uint ScW(int rd, int rs1, int rs2) => R(0x2F, rd, 2, rs1, rs2, 0x03 << 2);

    public static uint AmoAddD(int rd, int rs1, int rs2) => R(0x2F, rd, 3, rs1, rs2, 0x00);

    public static uint AmoMaxW(int rd, int rs1, int rs2) => R(0x2F, rd, 2, rs1, rs2, 0x14 << 2);

    /// <summary>An OP-FP instruction: funct7, rm (f3) and registers.</summary>
    public static uint Fp(uint f7, int rd, int rs1, int rs2, uint rm) => R(0x53, rd, rm, rs1, rs2, f7);

    public static uint FmvDX(int fd, int rs1) => Fp(0x79, fd, rs1, 0, 0);

    public static uint FmvXD(int rd, int fs1) => Fp(0x71, rd, fs1, 0, 0);

    public static uint FmvWX(int fd, int rs1) => Fp(0x78, fd, rs1, 0, 0);

    public static uint FmvXW(int rd, int fs1) => Fp(0x70, rd, fs1, 0, 0);
}
