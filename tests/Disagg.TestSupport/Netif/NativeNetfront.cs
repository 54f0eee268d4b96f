using System.Globalization;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Netif;
using Disagg.Service;
using Disagg.Xenbus;

namespace Disagg.TestSupport.Netif;

/// <summary>
/// The shared <see cref="Netfront"/> as a test's own service domain, so netback can be driven at full speed without
/// an emulated CPU: the test registers the domain, opens its channel (grant refs and buffer pages from 0) and plays
/// the toolstack (it writes the backend directory too). Not thread-safe (see <see cref="NetfrontStation"/>).
/// </summary>
public sealed class NativeNetfront : Netfront
{
    private readonly XenstoreClient _ownXs;

    private NativeNetfront(ServiceChannel channel, XenstoreClient xs, VifDescription vif, int backendDomain, SharedPage txPage, SharedPage rxPage)
        : base(channel, xs, vif, backendDomain, txPage, rxPage, new NetfrontLayout(FirstRef: 0, FirstPage: 0)) => _ownXs = xs;

    /// <summary>Registers domain <paramref name="domain"/> as a service, opens its channel, writes the vif's xenstore directories and connects to netback.</summary>
    public static async Task<NativeNetfront> StartAsync(KernelProcess kernel, KernelClient control, string xenstoreSocket, int domain, VifDescription vif, int backendDomain, TimeSpan? patience = null)
    {
        var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("netfront" + domain.ToString(CultureInfo.InvariantCulture), domain)).ConfigureAwait(false)).Token;
        var channel = await ServiceChannel.OpenAsync(kernel.Socket, token, Pages, grantFrames: 2).ConfigureAwait(false);
        var xs = await XenstoreClient.ConnectAsync(xenstoreSocket, CancellationToken.None).ConfigureAwait(false);
        var (tx, rx) = await AllocRingsAsync(channel, CancellationToken.None).ConfigureAwait(false);
        var fe = new NativeNetfront(channel, xs, vif, backendDomain, tx, rx);
        await fe.HandshakeAsync(writeToolstackKeys: true, patience ?? TimeSpan.FromSeconds(20), CancellationToken.None).ConfigureAwait(false);
        return fe;
    }

    /// <summary>Removes the vif (as the toolstack would on destroy), unmaps the rings, closes the channel.</summary>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await RemoveDeviceAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // xenstored is gone already (fixture teardown order)
        }

        await _ownXs.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
        await Channel.DisposeAsync().ConfigureAwait(false);
    }
}
