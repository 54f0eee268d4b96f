namespace Disagg.Kernel.Cpu.Translate;

/// <summary>The eight classic ALU operations; the value is the /digit of 0x81/0x83 and opcode = value * 8 + form.</summary>
internal enum X64AluOp : byte
{
    Add = 0,
    Or = 1,
    Adc = 2,
    Sbb = 3,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}
