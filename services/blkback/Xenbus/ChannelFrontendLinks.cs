using Disagg.Control;
using Disagg.Service;

namespace Disagg.Blkback.Xenbus;

/// <summary>Frontend links through the kernel: MapGrantAsync for the ring page, BindInterdomainAsync for the port.</summary>
internal sealed class ChannelFrontendLinks(ServiceChannel channel) : IFrontendLinks
{
    public async Task<FrontendLink> OpenAsync(int domain, uint ringRef, int remotePort, CancellationToken cancel)
    {
        var map = await channel.MapGrantAsync(domain, ringRef, readOnly: false, cancel).ConfigureAwait(false);
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
            return new FrontendLink(map.Pointer, 4096, port, () => ReleaseAsync(map, port));
        }
    }

    private async ValueTask ReleaseAsync(MappedGrant map, int port)
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
