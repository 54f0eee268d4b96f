using Disagg.Control;
using Disagg.Service;

namespace Disagg.Blkback.Xenbus;

/// <summary>Frontend links through the kernel: MapGrantsAsync for the ring pages (one range), BindInterdomainAsync for the port.</summary>
internal sealed class ChannelFrontendLinks(ServiceChannel channel)
{
    /// <summary>Maps ring grants <paramref name="ringRefs"/> of <paramref name="domain"/> as one range and binds to its port <paramref name="remotePort"/>.</summary>
    public async Task<FrontendLink> OpenAsync(int domain, uint[] ringRefs, int remotePort, CancellationToken cancel)
    {
        var map = await channel.MapGrantsAsync(domain, ringRefs, cancel).ConfigureAwait(false);
        int port;
        try
        {
            port = await channel.BindInterdomainAsync(domain, remotePort, cancel).ConfigureAwait(false);
        }
        catch
        {
            await map.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        unsafe
        {
            return new FrontendLink(map.Pointer, map.Length, port, () => ReleaseAsync(map, port));
        }
    }

    private async ValueTask ReleaseAsync(MappedGrantRange map, int port)
    {
        try
        {
            await channel.CloseAsync(port).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
        {
            // closed already: the frontend's end went with its domain, or our channel went
        }

        await map.DisposeAsync().ConfigureAwait(false);
    }
}
