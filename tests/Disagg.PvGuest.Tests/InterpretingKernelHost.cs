using Disagg.TestSupport;

namespace Disagg.PvGuest.Tests;

/// <summary>A kernel whose vCPUs run the translating engine (`serve --engine translate`).</summary>
public sealed class TranslatingKernelHost : KernelHost
{
    protected override string? Engine => "translate";
}
