namespace Disagg.Kernel.Cpu.Translate;

/// <summary>Shift operations; the value is the /digit of 0xC1 (by immediate) and 0xD3 (by CL).</summary>
internal enum X64ShiftOp : byte
{
    Shl = 4,
    Shr = 5,
    Sar = 7,
}
