using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Blkback.DataPath;
using Disagg.DiskImage;
using Disagg.Blkback.Hosting;
using Disagg.Control;
using Disagg.Xenbus;

namespace Disagg.Blkback.Xenbus;

/// <summary>One device's handshake: set up, connect, disconnect, forget.</summary>
internal sealed partial class VbdBackend
{
    private const uint Tx = XenstoreClient.NoTransaction;

    /// <summary>
    /// Brings one device in line with what xenstore says now. Idempotent: every watch event for the device ends
    /// here, and only a change (a new directory, a frontend state move) does anything.
    /// </summary>
    private async Task ReconcileAsync(int frontend, int device, CancellationToken cancel)
    {
        var key = (frontend, device);
        var path = XenbusPaths.Backend(_domainId, "vbd", frontend, device);
        try
        {
            if (await _xs.ReadAsync(Tx, path + "/frontend", cancel).ConfigureAwait(false) is null)
            {
                if (_devices.Remove(key, out var gone))
                {
                    await ForgetAsync(gone, cancel).ConfigureAwait(false);
                }

                return;
            }

            if (!_devices.TryGetValue(key, out var vbd))
            {
                vbd = new Vbd(frontend, device, path);
                _devices[key] = vbd;
            }

            if (vbd.Image is null && !await SetupAsync(vbd, cancel).ConfigureAwait(false))
            {
                return;
            }

            var config = vbd.Config!;
            if (vbd.WatchedFrontend is null)
            {
                var statePath = config.FrontendPath + "/state";
                _byFrontendState[statePath] = key;
                vbd.WatchedFrontend = statePath;
                await _xs.WatchAsync(statePath, FrontendToken, cancel).ConfigureAwait(false);
            }

            var frontendState = XenbusStates.Parse(await _xs.ReadAsync(Tx, config.FrontendPath + "/state", cancel).ConfigureAwait(false));
            var backendState = XenbusStates.Parse(await _xs.ReadAsync(Tx, path + "/state", cancel).ConfigureAwait(false));
            await StepAsync(vbd, frontendState, backendState, cancel).ConfigureAwait(false);
            vbd.LastFrontendState = frontendState;
        }
        catch (Exception e) when (e is XenstoreException or VbdException or KernelRequestException)
        {
            Log.DeviceError(_log, frontend, device, e.Message);
        }
    }

    private async Task StepAsync(Vbd vbd, XenbusState frontend, XenbusState backend, CancellationToken cancel)
    {
        if (vbd.Ring is not null)
        {
            // A frontend that was Connected and is Initialised again has re-initialised its ring (its resume).
            var reinitialised = vbd.LastFrontendState == XenbusState.Connected && frontend == XenbusState.Initialised;
            var detachAsked = backend == XenbusState.Closing && vbd.State != XenbusState.Closing; // the toolstack's block-detach
            if (frontend is XenbusState.Closing or XenbusState.Closed or XenbusState.Unknown || detachAsked || reinitialised)
            {
                await DisconnectAsync(vbd).ConfigureAwait(false);
                Log.Disconnected(_log, vbd.FrontendDomain, vbd.DeviceId, frontend.ToString());
                if (reinitialised)
                {
                    await TryConnectAsync(vbd, cancel).ConfigureAwait(false);
                }
                else
                {
                    await WriteStateAsync(vbd, XenbusState.Closed, cancel).ConfigureAwait(false);
                }
            }

            return;
        }

        switch (vbd.State)
        {
            // Only a frontend that has just (re)initialised its ring is connected. A Connected frontend we find at
            // start was served by our killed predecessor: its ring's unanswered slots may hold responses that
            // process wrote but never published (a slot is a union of request and response), so reading them
            // as requests would run garbage. It gets InitWait and reconnects, re-issuing from its shadow (§6).
            case XenbusState.Unknown or XenbusState.InitWait when frontend is XenbusState.Initialised:
                await TryConnectAsync(vbd, cancel).ConfigureAwait(false);
                break;
            case XenbusState.Unknown:
                await WriteStateAsync(vbd, XenbusState.InitWait, cancel).ConfigureAwait(false);
                break;
            case XenbusState.Closed when frontend is XenbusState.Initialising or XenbusState.InitWait:
                // The frontend comes back after closing (or after our fault report): offer the device again.
                await VbdKeys.PublishAsync(_xs, vbd.BackendPath, vbd.Image!, _loop.MaxIndirectSegments, cancel).ConfigureAwait(false);
                vbd.ErrorWritten = null;
                await WriteStateAsync(vbd, XenbusState.InitWait, cancel).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Reads the toolstack's keys, opens the image (one writer or many readers) and publishes the features.</summary>
    private async Task<bool> SetupAsync(Vbd vbd, CancellationToken cancel)
    {
        try
        {
            vbd.Config = await VbdConfig.ReadAsync(_xs, vbd.BackendPath, vbd.FrontendDomain, vbd.DeviceId, cancel).ConfigureAwait(false);
            vbd.Image = DiskImages.Open(vbd.Config.Image, vbd.Config.Format, vbd.Config.ReadOnly);
        }
        catch (Exception e) when (e is VbdException or DiskImageException)
        {
            // Retried at the next change of the directory (the toolstack may still be writing it).
            var reason = e is DiskImageException d ? $"image {d.ImagePath}: {d.Error}: {d.Reason}" : ((VbdException)e).Reason;
            if (vbd.ErrorWritten != reason)
            {
                Log.SetupFailed(_log, vbd.FrontendDomain, vbd.DeviceId, reason);
                await SetErrorAsync(vbd, reason, cancel).ConfigureAwait(false);
                await WriteStateAsync(vbd, XenbusState.Closed, cancel).ConfigureAwait(false);
            }

            return false;
        }

        await VbdKeys.PublishAsync(_xs, vbd.BackendPath, vbd.Image, _loop.MaxIndirectSegments, cancel).ConfigureAwait(false);
        vbd.ErrorWritten = null;
        vbd.State = XenbusState.Unknown; // set up anew: the next step writes InitWait (or connects a frontend already Initialised)
        Log.DeviceReady(_log, vbd.FrontendDomain, vbd.DeviceId, vbd.Config.Image, vbd.Config.Format.ToString(), vbd.Config.ReadOnly ? "r" : "w", vbd.Image.SectorCount);
        return true;
    }

    private async Task TryConnectAsync(Vbd vbd, CancellationToken cancel)
    {
        try
        {
            await ConnectAsync(vbd, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is VbdException or KernelRequestException or KernelConnectionLostException)
        {
            var reason = e is VbdException v ? v.Reason : e.Message;
            Log.ConnectFailed(_log, vbd.FrontendDomain, vbd.DeviceId, reason);
            await SetErrorAsync(vbd, "connect: " + reason, cancel).ConfigureAwait(false);
            await WriteStateAsync(vbd, XenbusState.InitWait, cancel).ConfigureAwait(false); // the frontend may reconnect (§6)
        }
    }

    /// <summary>Reads the frontend's ring-ref, event-channel and protocol, maps and binds, and hands the ring to the loop.</summary>
    private async Task ConnectAsync(Vbd vbd, CancellationToken cancel)
    {
        var fe = vbd.Config!.FrontendPath;
        var refs = await ReadRingRefsAsync(vbd, fe, cancel).ConfigureAwait(false);
        var channel = await _xs.ReadAsync(Tx, fe + "/event-channel", cancel).ConfigureAwait(false);
        var protocol = await _xs.ReadAsync(Tx, fe + "/protocol", cancel).ConfigureAwait(false);
        if (!int.TryParse(channel, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new VbdException(vbd.FrontendDomain, vbd.DeviceId, $"event-channel '{channel}' is not a port");
        }

        // Our rings use the 64-bit layout for every guest (spec: fixed 64-bit fields); a 32-bit x86 layout differs.
        if (protocol is not (null or "" or "x86_64-abi" or "arm-abi" or "riscv64-abi"))
        {
            throw new VbdException(vbd.FrontendDomain, vbd.DeviceId, $"protocol '{protocol}' (the 64-bit blkif layout only)");
        }

        var link = await _links.OpenAsync(vbd.FrontendDomain, refs, port, cancel).ConfigureAwait(false);
        VbdRing ring;
        unsafe
        {
            // The frontend has just initialised this ring (we connect only on Initialised), so its indices are
            // zero and resuming is attaching; Resume also copes with a frontend that starts its indices elsewhere.
            ring = new VbdRing(vbd.Name, vbd.FrontendDomain, link.Ring, link.RingBytes, resume: true, link.LocalPort, vbd.Image!, _loop.MaxIndirectSegments);
        }

        vbd.Link = link;
        vbd.Ring = ring;
        _loop.Attach(ring);
        await _xs.RmAsync(Tx, vbd.BackendPath + "/error", cancel).ConfigureAwait(false);
        vbd.ErrorWritten = null;
        await WriteStateAsync(vbd, XenbusState.Connected, cancel).ConfigureAwait(false);
        Log.Connected(_log, vbd.FrontendDomain, vbd.DeviceId, refs[0], refs.Length, port, link.LocalPort);
    }

    /// <summary>
    /// blkif.h: a one-page ring is `ring-ref` (or `ring-ref0` with `ring-page-order` 0); a ring of 2^order pages
    /// is `ring-ref0` .. `ring-ref{2^order - 1}`, order at most our max-ring-page-order.
    /// </summary>
    private async Task<uint[]> ReadRingRefsAsync(Vbd vbd, string fe, CancellationToken cancel)
    {
        var orderText = await _xs.ReadAsync(Tx, fe + "/ring-page-order", cancel).ConfigureAwait(false);
        var order = 0;
        if (orderText is not null && (!int.TryParse(orderText, NumberStyles.None, CultureInfo.InvariantCulture, out order) || order > VbdKeys.MaxRingPageOrder))
        {
            throw new VbdException(vbd.FrontendDomain, vbd.DeviceId, $"ring-page-order '{orderText}' (0..{VbdKeys.MaxRingPageOrder} served)");
        }

        var refs = new uint[1 << order];
        for (var i = 0; i < refs.Length; i++)
        {
            var key = order == 0 ? "ring-ref" : $"ring-ref{i}";
            var text = await _xs.ReadAsync(Tx, fe + "/" + key, cancel).ConfigureAwait(false);
            if (order == 0 && text is null)
            {
                key = "ring-ref0";
                text = await _xs.ReadAsync(Tx, fe + "/" + key, cancel).ConfigureAwait(false);
            }

            if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out refs[i]))
            {
                throw new VbdException(vbd.FrontendDomain, vbd.DeviceId, $"{key} '{text}' is not a grant reference");
            }
        }

        return refs;
    }

    private async Task DisconnectAsync(Vbd vbd)
    {
        if (vbd.Ring is { } ring)
        {
            vbd.Ring = null;
            vbd.LastCounters = ring.Counters;
            await _loop.DetachAsync(ring).ConfigureAwait(false);
        }

        if (vbd.Link is { } link)
        {
            vbd.Link = null;
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The toolstack removed the directory: let go of everything (the image's lock included).</summary>
    private async Task ForgetAsync(Vbd vbd, CancellationToken cancel)
    {
        await DisconnectAsync(vbd).ConfigureAwait(false);
        if (vbd.WatchedFrontend is { } watched)
        {
            _byFrontendState.Remove(watched);
            vbd.WatchedFrontend = null;
            try
            {
                await _xs.UnwatchAsync(watched, FrontendToken, cancel).ConfigureAwait(false);
            }
            catch (XenstoreException)
            {
                // not registered any more
            }
        }

        vbd.Image?.Dispose();
        vbd.Image = null;
        Log.Forgotten(_log, vbd.FrontendDomain, vbd.DeviceId);
    }

    private async Task WriteStateAsync(Vbd vbd, XenbusState state, CancellationToken cancel)
    {
        if (vbd.State == state)
        {
            return;
        }

        vbd.State = state;
        await _xs.WriteAsync(Tx, vbd.BackendPath + "/state", XenbusStates.Format(state), cancel).ConfigureAwait(false);
    }

    private async Task SetErrorAsync(Vbd vbd, string reason, CancellationToken cancel)
    {
        vbd.ErrorWritten = reason;
        await _xs.WriteAsync(Tx, vbd.BackendPath + "/error", reason, cancel).ConfigureAwait(false);
    }
}
