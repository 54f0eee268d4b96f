namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// Tests that start real pCPU threads run one class at a time: they measure CPU shares and
/// per-thread CPU, which other hypervisors in the same process would disturb.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealHypervisorCollection
{
    public const string Name = "real hypervisor";
}
