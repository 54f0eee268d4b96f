using Disagg.Kernel.Cpu.Fuzz;

namespace Disagg.Kernel.Cpu.Tests;

[Collection("engine fuzzing")]
public class FuzzTests
{
    /// <summary>
    /// Bounded, fixed-seed hostile-guest run: random instruction streams and page tables never make the
    /// engine throw, hang or write outside guest RAM. `make fuzz` runs the same fuzzer for longer.
    /// </summary>
    [Theory]
    [InlineData(HartEngine.Interpret)]
    [InlineData(HartEngine.Translate)]
    public async Task RandomProgramsOnlyEverTrapOrExecute(HartEngine engine)
    {
        var run = Task.Run(() => HartFuzzer.Run(seed: 20261124, duration: TimeSpan.FromSeconds(3), maxPrograms: 1500, engine: engine));
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(finished == run, "the engine hung on a fuzz program");
        var report = await run;
        Assert.Null(report.Failure);
        Assert.True(report.Programs >= 50, $"only {report.Programs} programs ran");
        Assert.True(report.Traps > 0 && report.Instructions > 0, report.ToString());
    }
}
