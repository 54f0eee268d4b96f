using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// Device directories over one xenstored connection: finding a guest's devices, waiting for a
/// backend's state, closing and removing them (libxl's device add/remove, spec: xenbus). The
/// frontend directory is the list of a guest's devices; its `backend` key says where the backend is.
/// </summary>
internal static class XenstoreDevices
{
    private const uint NoTx = XenstoreClient.NoTransaction;

    /// <summary>Every device of one kind ("vif", "vbd") under the guest's frontend directory.</summary>
    public static async Task<List<DeviceDirs>> FindAsync(XenstoreClient xs, int domid, string kind, CancellationToken cancel)
    {
        var found = new List<DeviceDirs>();
        var root = $"{XenbusPaths.Domain(domid)}/device/{kind}";
        foreach (var name in await xs.DirectoryAsync(NoTx, root, cancel).ConfigureAwait(false))
        {
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var devid))
            {
                continue;
            }

            var fe = $"{root}/{name}";
            var backend = await xs.ReadAsync(NoTx, fe + "/backend", cancel).ConfigureAwait(false);
            var backendId = await xs.ReadAsync(NoTx, fe + "/backend-id", cancel).ConfigureAwait(false);
            if (backend is null || !int.TryParse(backendId, NumberStyles.None, CultureInfo.InvariantCulture, out var be))
            {
                continue; // the guest owns this directory and may have written anything into it
            }

            // Trust only a backend path where the toolstack puts backends: the guest could point it at another domain's nodes.
            if (backend != XenbusPaths.Backend(be, kind, domid, devid))
            {
                continue;
            }

            found.Add(new DeviceDirs(kind, devid, fe, backend, be));
        }

        return found;
    }

    public static async Task<XenbusState> StateAsync(XenstoreClient xs, string dir, CancellationToken cancel) =>
        XenbusStates.Parse(await xs.ReadAsync(NoTx, dir + "/state", cancel).ConfigureAwait(false));

    /// <summary>
    /// Waits until every directory's state satisfies <paramref name="done"/> (or the directory is gone),
    /// woken by watches on the state nodes; returns the directories that did not get there in time.
    /// </summary>
    public static async Task<List<string>> WaitAsync(XenstoreClient xs, IReadOnlyCollection<string> dirs, Func<XenbusState, bool> done, TimeSpan timeout, CancellationToken cancel)
    {
        var waiting = new List<string>(dirs);
        if (waiting.Count == 0)
        {
            return waiting;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        foreach (var dir in waiting)
        {
            await xs.WatchAsync(dir + "/state", "disagg-wait", cancel).ConfigureAwait(false);
        }

        try
        {
            while (true)
            {
                for (var i = waiting.Count - 1; i >= 0; i--)
                {
                    var state = await xs.ReadAsync(NoTx, waiting[i] + "/state", cancel).ConfigureAwait(false);
                    if (state is null || done(XenbusStates.Parse(state)))
                    {
                        waiting.RemoveAt(i);
                    }
                }

                if (waiting.Count == 0)
                {
                    return waiting;
                }

                await xs.WatchEvents.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return waiting; // timed out
        }
        finally
        {
            foreach (var dir in dirs)
            {
                await xs.UnwatchAsync(dir + "/state", "disagg-wait", CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>
    /// Asks each backend to let go (online = 0, state = Closing, as libxl does) and waits up to
    /// <paramref name="timeout"/> for each connected one to say Closed; a backend that never connected
    /// holds no ring, and removing its directory is enough. Returns the backends still not Closed.
    /// </summary>
    public static async Task<List<string>> CloseAsync(XenstoreClient xs, IReadOnlyList<DeviceDirs> devices, TimeSpan timeout, CancellationToken cancel)
    {
        var present = new List<string>();
        var connected = new List<string>();
        foreach (var d in devices)
        {
            var state = await StateAsync(xs, d.BackendPath, cancel).ConfigureAwait(false);
            if (state is XenbusState.Unknown or XenbusState.Closed)
            {
                continue;
            }

            present.Add(d.BackendPath);
            if (d.BackendDomain != 0 && state is XenbusState.Initialised or XenbusState.Connected or XenbusState.Closing)
            {
                connected.Add(d.BackendPath);
            }
        }

        if (present.Count == 0)
        {
            return [];
        }

        await XenstoreTransaction.RunAsync(xs, async tx =>
        {
            foreach (var bp in present)
            {
                await xs.WriteAsync(tx, bp + "/online", "0", cancel).ConfigureAwait(false);
                await xs.WriteAsync(tx, bp + "/state", XenbusStates.Format(XenbusState.Closing), cancel).ConfigureAwait(false);
            }
        }, cancel).ConfigureAwait(false);
        return await WaitAsync(xs, connected, s => s is XenbusState.Closed or XenbusState.Unknown, timeout, cancel).ConfigureAwait(false);
    }

    /// <summary>Removes the devices' frontend directories, then their backend directories (libxl's order).</summary>
    public static Task<bool> RemoveAsync(XenstoreClient xs, IReadOnlyList<DeviceDirs> devices, CancellationToken cancel) =>
        XenstoreTransaction.RunAsync(xs, async tx =>
        {
            foreach (var d in devices)
            {
                await xs.RmAsync(tx, d.FrontendPath, cancel).ConfigureAwait(false);
            }

            foreach (var d in devices)
            {
                await xs.RmAsync(tx, d.BackendPath, cancel).ConfigureAwait(false);
            }
        }, cancel);

    /// <summary>The backend's error node (blkback and netback say there why they refused a device), or null.</summary>
    public static Task<string?> ErrorAsync(XenstoreClient xs, string backendPath, CancellationToken cancel) =>
        xs.ReadAsync(NoTx, backendPath + "/error", cancel);

    public static Task<string?> ReadAsync(XenstoreClient xs, string path, CancellationToken cancel) => xs.ReadAsync(NoTx, path, cancel);
}
