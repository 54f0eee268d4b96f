namespace Disagg.Kernel.Cpu;

/// <summary>
/// Slow-path counters of one hart, for profiling (the fast paths count nothing). FirstTranslationMilliseconds:
/// from the hart's creation to its first translated block (the translator's warm-up), 0 when none.
/// The translator's way back to the run loop, per return from translated code: ExitsToInterpreter (an op the
/// interpreter must run: a TLB miss, an op outside the subset, FP not ready), ExitsAtLimit (the checkpoint
/// reached), ExitsUnchained (a target not translated yet or not in the fetch TLB: a chain miss); and
/// InterpretedBlockStarts, block starts the interpreter ran because the block is cold or refused.
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
    double FirstTranslationMilliseconds = 0,
    long ExitsToInterpreter = 0,
    long ExitsAtLimit = 0,
    long ExitsUnchained = 0,
    long InterpretedBlockStarts = 0);
