using Disagg.TestSupport.Lifecycle;

namespace Disagg.Netback.Tests.EndToEnd;

/// <summary>The shared backend life-cycle suite, run against the real disagg-netback with native netfronts.</summary>
public sealed class NetbackLifecycleTests : BackendLifecycleSuite
{
    protected override async Task<ILifecycleRig> StartRigAsync() => await NetbackLifecycleRig.StartAsync();
}
