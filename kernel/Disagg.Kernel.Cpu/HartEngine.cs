namespace Disagg.Kernel.Cpu;

/// <summary>How a hart executes guest code.</summary>
public enum HartEngine
{
    /// <summary>The decoded-op interpreter only (the reference).</summary>
    Interpret,

    /// <summary>Hot blocks translated to x86-64 machine code; the interpreter runs everything else (x86-64 Linux only).</summary>
    Translate,
}
