using System.Text.Json;
using Disagg.DomainImage;
using Disagg.Toolstack.Cli;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Xenstore;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Daemon.Save;

/// <summary>
/// What the toolstack knows of a guest beyond its domain (<see cref="ToolstackState"/>: its config as it is now,
/// hot-plugged devices included, and its xenstore subtree), taken when it leaves and given back where it arrives.
/// One path for a save file's header and a migration's hand-off (MigrateReleased), so a restored and a migrated
/// guest come back with the same devices and the same nodes of their own.
/// </summary>
internal sealed class GuestStates(XenstoreDomains xenstore)
{
    /// <summary>The guest's state as it is now; take it while the guest is stopped (suspended or paused).</summary>
    public async Task<ToolstackState> CaptureAsync(Guest guest, int domid, CancellationToken cancel) => Describe(guest, domid) with
    {
        Xenstore = await CaptureXenstoreAsync(domid, guest.Name, cancel).ConfigureAwait(false),
    };

    /// <summary>The guest's config as it is now, its path and uuid, without its xenstore subtree: what a migration's offer carries.</summary>
    public static ToolstackState Describe(Guest guest, int domid) => new()
    {
        ConfigJson = JsonSerializer.Serialize(guest.Config, ToolstackJsonContext.Default.DomainConfig),
        ConfigPath = guest.ConfigPath,
        Uuid = guest.Uuid,
        DomainId = domid,
    };

    /// <summary>The config in a state (refused as a malformed header, like every other refusal of the image).</summary>
    public static DomainConfig ConfigOf(ToolstackState state)
    {
        DomainConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(state.ConfigJson, ToolstackJsonContext.Default.DomainConfig);
        }
        catch (JsonException e)
        {
            throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.Header, 0, $"its config does not decode: {e.Message}");
        }

        return config ?? throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.Header, 0, "its config is null");
    }

    /// <summary>
    /// The saved subtree under the guest's new id (all but what the new domain got afresh: name, domid, vm,
    /// console/, store/, device/, control/shutdown), permissions naming the old id naming the new one.
    /// </summary>
    public async Task RehomeXenstoreAsync(ToolstackState state, int domid, string name, CancellationToken cancel)
    {
        var entries = XenstoreSubtree.Rehome(state.Xenstore, state.DomainId, domid);
        if (!xenstore.Available || entries.Count == 0)
        {
            return;
        }

        try
        {
            await using var xs = await xenstore.ConnectAsync(cancel).ConfigureAwait(false);
            if (!await XenstoreTransaction.RunAsync(xs, tx => XenstoreTransaction.WriteAsync(xs, tx, entries, cancel), cancel).ConfigureAwait(false))
            {
                throw new IOException("the transaction kept conflicting with other writers (EAGAIN)");
            }
        }
        catch (Exception e) when (e is XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            throw new DomainOperationException(name, $"xenstore: could not re-home its saved subtree: {e.Message}");
        }
    }

    private async Task<List<XenstoreNode>> CaptureXenstoreAsync(int domid, string name, CancellationToken cancel)
    {
        if (!xenstore.Available)
        {
            return [];
        }

        try
        {
            await using var xs = await xenstore.ConnectAsync(cancel).ConfigureAwait(false);
            return await XenstoreSubtree.CaptureAsync(xs, domid, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            throw new DomainOperationException(name, $"xenstore: could not read its subtree: {e.Message}");
        }
    }
}
