namespace Disagg.Kernel.Cpu;

/// <summary>
/// Slow-path counters of one hart, for profiling (the fast paths count nothing). FirstTranslationMilliseconds:
/// from the hart's creation to its first translated block (the translator's warm-up), 0 when none.
/// </summary>
public readonly record struct HartStatistics(
    long TlbFills,
    long PageWalks,
    long PagesDecoded,
    long InstructionsDecoded,
    long TlbFlushes,
    long Traps,
    long BlocksTranslated,
    long TranslatedBytes,
    double FirstTranslationMilliseconds = 0);
