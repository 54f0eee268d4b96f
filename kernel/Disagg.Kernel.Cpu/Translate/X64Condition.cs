namespace Disagg.Kernel.Cpu.Translate;

/// <summary>x86 condition codes, numbered as in Jcc/SETcc opcodes (0x70 + cc, 0x0F 0x90 + cc).</summary>
internal enum X64Condition : byte
{
    Overflow = 0x0,
    NoOverflow = 0x1,
    Below = 0x2,
    AboveOrEqual = 0x3,
    Equal = 0x4,
    NotEqual = 0x5,
    BelowOrEqual = 0x6,
    Above = 0x7,
    Sign = 0x8,
    NoSign = 0x9,
    Parity = 0xA,
    Less = 0xC,
    GreaterOrEqual = 0xD,
    LessOrEqual = 0xE,
    Greater = 0xF,
}
