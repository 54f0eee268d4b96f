using Disagg.TestSupport;

namespace Disagg.PvGuest.Tests;

/// <summary>A kernel whose vCPUs run the interpreter (`serve --engine interp`; the default engine is the translator).</summary>
public sealed class InterpretingKernelHost : KernelHost
{
    protected override string? Engine => "interp";
}
