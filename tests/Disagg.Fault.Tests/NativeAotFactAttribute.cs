using Disagg.TestSupport;
using Disagg.Toolstack.Host;

namespace Disagg.Fault.Tests;

/// <summary>
/// A test of what NativeAOT services do: it runs when the host a test starts runs them, that is when `make publish` made
/// out/aot after the last build (the daemon's own rule, <see cref="ProgramChoice.CurrentNativeAot"/>), and is skipped,
/// saying why, otherwise (`make test` builds but does not publish).
/// </summary>
public sealed class NativeAotFactAttribute : FactAttribute
{
    public NativeAotFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(ProgramChoice.ForceJitVariable) == "1")
        {
            Skip = "DISAGG_JIT=1: the host runs the JIT build";
        }
        else if (ProgramChoice.CurrentNativeAot(RepoPaths.Bin, out var note) is null)
        {
            Skip = note ?? "no NativeAOT build: `make publish` (after `make build`) makes out/aot, which hosts then run";
        }
    }
}
