namespace Disagg.Kernel.Cpu.Translate;

/// <summary>The sixteen x86-64 general-purpose registers by encoding number (bit 3 goes into REX).</summary>
internal enum X64Register : byte
{
    Rax,
    Rcx,
    Rdx,
    Rbx,
    Rsp,
    Rbp,
    Rsi,
    Rdi,
    R8,
    R9,
    R10,
    R11,
    R12,
    R13,
    R14,
    R15,
}
