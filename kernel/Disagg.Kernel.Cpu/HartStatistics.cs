namespace Disagg.Kernel.Cpu;

/// <summary>Slow-path counters of one hart, for profiling (the fast paths count nothing).</summary>
public readonly record struct HartStatistics(
    long TlbFills,
    long PageWalks,
    long PagesDecoded,
    long InstructionsDecoded,
    long TlbFlushes,
    long Traps,
    long BlocksTranslated,
    long TranslatedBytes);
