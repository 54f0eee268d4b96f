namespace Disagg.Kernel.Cpu.Tests;

/// <summary>The translator against the interpreter on random programs, state compared at every common block boundary.</summary>
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
}
