namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// The translator against the interpreter on random programs, state compared at every common block boundary.
/// One collection with the fuzz tests: they are CPU-bound, and running them side by side starves both.
/// </summary>
[Collection("engine fuzzing")]
public class TranslatorDifferentialTests
{
    [Theory]
    [InlineData(IsaWidth.Rv64, 1)]
    [InlineData(IsaWidth.Rv64, 2)]
    [InlineData(IsaWidth.Rv32, 1)]
    [InlineData(IsaWidth.Rv32, 2)]
    public void RandomProgramsLeaveTheSameStateAtEveryBlockBoundary(IsaWidth isa, int seedBase)
    {
        long comparisons = 0, instructions = 0, translated = 0;
        for (var program = 0; program < 150; program++)
        {
            var outcome = EngineDifferential.Run((seedBase * 100_000) + program, isa, steps: 400);
            Assert.True(outcome.Failure is null, outcome.Failure);
            comparisons += outcome.Comparisons;
            instructions += outcome.Instructions;
            translated += outcome.Translated;
        }

        // The run must have exercised something: many comparisons and translated blocks.
        Assert.True(comparisons > 10_000 && translated > 1_000, $"comparisons {comparisons} instructions {instructions} blocks {translated}");
    }

    [Theory]
    [InlineData(IsaWidth.Rv64)]
    [InlineData(IsaWidth.Rv32)]
    public void ChainedTranslationsReachEveryEcallInTheInterpretersState(IsaWidth isa)
    {
        long comparisons = 0, instructions = 0;
        for (var program = 0; program < 200; program++)
        {
            var outcome = EngineDifferential.RunToCalls(300_000 + program, isa, calls: 20, maxInstructions: 50_000);
            Assert.True(outcome.Failure is null, outcome.Failure);
            comparisons += outcome.Comparisons;
            instructions += outcome.Instructions;
        }

        Assert.True(comparisons > 100 && instructions > 1_000_000, $"comparisons {comparisons} instructions {instructions}");
    }
}
