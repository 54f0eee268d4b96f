namespace Disagg.Blkback.Xenbus;

/// <summary>How a device reaches its frontend: map the ring page it granted us and bind its event channel.</summary>
internal interface IFrontendLinks
{
    /// <summary>Maps grant <paramref name="ringRef"/> of <paramref name="domain"/> and binds to its port <paramref name="remotePort"/>.</summary>
    Task<FrontendLink> OpenAsync(int domain, uint ringRef, int remotePort, CancellationToken cancel);
}
