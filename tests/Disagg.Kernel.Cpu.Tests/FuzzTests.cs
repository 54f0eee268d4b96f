using Disagg.Kernel.Cpu.Fuzz;

namespace Disagg.Kernel.Cpu.Tests;

[Collection("engine fuzzing")]
public class FuzzTests
{
    /// <summary>
    /// Bounded, fixed-seed hostile-guest run: random instruction streams and page tables never make the
    /// engine throw, hang or write outside guest RAM. `make fuzz` runs the same fuzzer for longer.
    /// Bounded by the program count, not the clock: under a load of 60-80 on two cores a 3-second run got
    /// through only 22-33 programs; 400 take about a second on a quiet host, the 30 s are a backstop.
    /// </summary>
    [Theory]
    [InlineData(HartEngine.Interpret)]
    [InlineData(HartEngine.Translate)]
    public async Task RandomProgramsOnlyEverTrapOrExecute(HartEngine engine)
    {
        var run = Task.Run(() => HartFuzzer.Run(seed: 20261124, duration: TimeSpan.FromSeconds(30), maxPrograms: 400, engine: engine));
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60)));
        Assert.True(finished == run, "the engine hung on a fuzz program");
        var report = await run;
        Assert.Null(report.Failure);
        Assert.True(report.Programs >= 50, $"only {report.Programs} programs ran");
        Assert.True(report.Traps > 0 && report.Instructions > 0, report.ToString());
    }
}
