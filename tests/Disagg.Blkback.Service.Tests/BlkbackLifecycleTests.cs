using Disagg.TestSupport.Lifecycle;

namespace Disagg.Blkback.Service.Tests;

/// <summary>The shared backend life-cycle suite, run against the real disagg-blkback with native blkfronts.</summary>
[Collection("blkback processes")]
public sealed class BlkbackLifecycleTests : BackendLifecycleSuite
{
    protected override async Task<ILifecycleRig> StartRigAsync() => await BlkbackLifecycleRig.StartAsync();
}
