namespace Disagg.Blkback.Xenbus;

/// <summary>How a device reaches its frontend: map the ring pages it granted us and bind its event channel.</summary>
internal interface IFrontendLinks
{
    /// <summary>Maps ring grants <paramref name="ringRefs"/> of <paramref name="domain"/> as one range and binds to its port <paramref name="remotePort"/>.</summary>
    Task<FrontendLink> OpenAsync(int domain, uint[] ringRefs, int remotePort, CancellationToken cancel);
}
