namespace Disagg.Kernel.Cpu;

/// <summary>The base ISA width of a hart (XLEN). Wire value: append-only, saved in hart state.</summary>
public enum IsaWidth
{
    Rv32 = 32,
    Rv64 = 64,
}
