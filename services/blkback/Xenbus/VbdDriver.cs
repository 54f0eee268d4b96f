using System.Globalization;
using Disagg.Blkback.DataPath;
using Disagg.Blkback.Faults;
using Disagg.DiskImage;
using Disagg.Service.Faults;
using Disagg.Blkback.Hosting;
using Disagg.Control;
using Disagg.Xenbus;
using Disagg.Xenbus.Backend;
using Microsoft.Extensions.Logging;

namespace Disagg.Blkback.Xenbus;

/// <summary>
/// blkback's device for the shared xenbus life cycle (<see cref="XenbusBackend{TDevice, TConnection}"/>): an image
/// opened from the toolstack's keys, a ring of 1..16 pages and an event channel from the frontend's, and the I/O
/// loop as its data path. Only a freshly initialised ring is connected (<see cref="RestartRule.FreshRingOnly"/>):
/// an old ring's unanswered slots may hold responses the killed process wrote but did not publish, so a
/// frontend found Connected after a restart waits in InitWait and re-issues from its shadow (docs/BLKBACK.md, Recovery).
/// </summary>
internal sealed class VbdDriver(ChannelFrontendLinks links, IoLoop loop, ILogger log, ChannelFaults? faults = null) : IXenbusDriver<Vbd, VbdRingKeys>
{
    private const uint Tx = XenstoreClient.NoTransaction;

    public string DeviceType => "vbd";

    public RestartRule Restart => RestartRule.FreshRingOnly;

    /// <summary>Reads the toolstack's keys and opens the image (one writer or many readers).</summary>
    public async Task<Vbd> SetUpAsync(XenbusDevice device, XenstoreClient xs, CancellationToken cancel)
    {
        var config = await VbdConfig.ReadAsync(xs, device, cancel).ConfigureAwait(false);
        IDiskImage image;
        try
        {
            image = DiskImages.Open(config.Image, config.Format, config.ReadOnly);
            if (faults is not null)
            {
                image = new FaultingDiskImage(image, faults); // only on a fault-injection host
            }
        }
        catch (DiskImageException e)
        {
            throw new XenbusDeviceException(device, $"image {e.ImagePath}: {e.Error}: {e.Reason}", e);
        }

        Log.DeviceReady(log, device.FrontendDomain, device.DeviceId, config.Image, config.Format.ToString(), config.ReadOnly ? "r" : "w", image.SectorCount);
        loop.Changes.Mark(); // a new line in the status file
        return new Vbd(device, config, image);
    }

    public IReadOnlyList<(string Key, string Value)> Features(Vbd device) => VbdKeys.Features(device.Image, loop.MaxIndirectSegments);

    /// <summary>
    /// blkif.h: a one-page ring is `ring-ref` (or `ring-ref0` with `ring-page-order` 0); a ring of 2^order pages
    /// is `ring-ref0` .. `ring-ref{2^order - 1}`, order at most our max-ring-page-order; then `event-channel` and
    /// `protocol`.
    /// </summary>
    public async Task<VbdRingKeys> ReadFrontendAsync(Vbd vbd, XenstoreClient xs, CancellationToken cancel)
    {
        var fe = vbd.Address.FrontendPath;
        var orderText = await xs.ReadAsync(Tx, fe + "/ring-page-order", cancel).ConfigureAwait(false);
        var order = 0;
        if (orderText is not null && (!int.TryParse(orderText, NumberStyles.None, CultureInfo.InvariantCulture, out order) || order > VbdKeys.MaxRingPageOrder))
        {
            throw new XenbusDeviceException(vbd.Address, $"ring-page-order '{orderText}' (0..{VbdKeys.MaxRingPageOrder} served)");
        }

        var refs = new uint[1 << order];
        for (var i = 0; i < refs.Length; i++)
        {
            var key = order == 0 ? "ring-ref" : $"ring-ref{i}";
            var text = await xs.ReadAsync(Tx, fe + "/" + key, cancel).ConfigureAwait(false);
            if (order == 0 && text is null)
            {
                key = "ring-ref0";
                text = await xs.ReadAsync(Tx, fe + "/" + key, cancel).ConfigureAwait(false);
            }

            if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out refs[i]))
            {
                throw new XenbusDeviceException(vbd.Address, $"{key} '{text}' is not a grant reference");
            }
        }

        var channel = await xs.ReadAsync(Tx, fe + "/event-channel", cancel).ConfigureAwait(false);
        if (!int.TryParse(channel, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new XenbusDeviceException(vbd.Address, $"event-channel '{channel}' is not a port");
        }

        // Our rings use the 64-bit layout for every guest (spec: fixed 64-bit fields); a 32-bit x86 layout differs.
        var protocol = await xs.ReadAsync(Tx, fe + "/protocol", cancel).ConfigureAwait(false);
        if (protocol is not (null or "" or "x86_64-abi" or "arm-abi" or "riscv64-abi"))
        {
            throw new XenbusDeviceException(vbd.Address, $"protocol '{protocol}' (the 64-bit blkif layout only)");
        }

        return new VbdRingKeys(refs, port);
    }

    /// <summary>Maps the ring and binds the port, and hands the ring to the I/O loop.</summary>
    public async Task ConnectAsync(Vbd vbd, VbdRingKeys keys, CancellationToken cancel)
    {
        FrontendLink link;
        try
        {
            link = await links.OpenAsync(vbd.FrontendDomain, keys.Refs, keys.Port, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelRequestException or KernelConnectionLostException)
        {
            throw new XenbusDeviceException(vbd.Address, "connect: " + e.Message, e);
        }

        VbdRing ring;
        unsafe
        {
            // The frontend has just initialised this ring (we connect only on Initialised), so its indices are
            // zero and resuming is attaching; Resume also copes with a frontend that starts its indices elsewhere.
            ring = new VbdRing(vbd.Address.Name, vbd.FrontendDomain, link.Ring, link.RingBytes, resume: true, link.LocalPort, vbd.Image, loop.MaxIndirectSegments)
            {
                DeviceId = vbd.DeviceId,
            };
        }

        vbd.Link = link;
        vbd.Ring = ring;
        loop.Attach(ring);
        Log.Connected(log, vbd.FrontendDomain, vbd.DeviceId, keys.Refs[0], keys.Refs.Length, keys.Port, link.LocalPort);
    }

    public async Task DisconnectAsync(Vbd vbd)
    {
        if (vbd.Ring is { } ring)
        {
            vbd.Ring = null;
            vbd.LastCounters = ring.Counters;
            await loop.DetachAsync(ring).ConfigureAwait(false);
        }

        if (vbd.Link is { } link)
        {
            vbd.Link = null;
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    public string? FaultOf(Vbd vbd) => vbd.Ring?.FaultReason;

    /// <summary>
    /// The directory went: every write we acknowledged is made durable (fdatasync), then the image's lock goes
    /// with it. A migration's target opens the disk only once that lock is free (services/toolstack Migration/
    /// DiskHandOff), so nothing it reads can predate a write this guest was told was done.
    /// </summary>
    public ValueTask ForgetAsync(Vbd vbd)
    {
        try
        {
            vbd.Image.Flush();
            Log.Released(log, vbd.FrontendDomain, vbd.DeviceId, vbd.Config.Image);
        }
        catch (DiskImageException e)
        {
            Log.ReleaseFlushFailed(log, vbd.FrontendDomain, vbd.DeviceId, e.ImagePath, e.Reason);
        }
        finally
        {
            vbd.Image.Dispose();
            loop.Changes.Mark(); // its status line goes
        }

        return ValueTask.CompletedTask;
    }
}
