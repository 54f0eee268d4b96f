using System.Runtime.InteropServices;

namespace Disagg.Kernel.Cpu.Decode;

/// <summary>
/// One pre-decoded instruction, 16 bytes. A decoded page holds one per 2-byte parcel, so a
/// compressed instruction at any halfword has its own slot. <see cref="Len"/> is the instruction
/// length in parcels (1 or 2): the loop advances its op pointer by it, and the pc is derived from
/// the op pointer only when an instruction needs it.
/// An integer destination of x0 is rewritten to the sink register 32 at decode time, so the loop
/// never tests for x0 on a write.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct DecodedOp
{
    public Op Kind;
    public byte Rd;
    public byte Rs1;
    public byte Rs2;
    public byte Rs3;
    public byte Len;

    /// <summary>Rounding mode field of FP ops; for CSR ops 1 when rd was x0 (no read side effects).</summary>
    public byte Rm;

    /// <summary>Immediate; for CSR ops the CSR number in the low 12 bits; for Illegal the raw bits (stval).</summary>
    public long Imm;
}
