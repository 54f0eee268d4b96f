using System.Net.Sockets;
using System.Security.Cryptography;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.DomainImage;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Daemon.Save;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using ErrorReply = Disagg.Control.Messages.ErrorReply;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// One incoming migration: the peer proves it knows the key, offers a guest; the offer is checked here
/// (key, this host's arch against the guest's width, the name, the config) before any memory moves. Then
/// the kernel reads the stream into a paused domain on a connection of its own; the guest runs here only
/// after the source's kernel has given it up (commit), and is destroyed if it never does.
/// </summary>
internal sealed class MigrationTarget(KernelLink kernel, GuestRegistry registry, GuestDomains guests, GuestStates states, Daemon.ServiceDomains services, Daemon.DeviceModels.DeviceModelDomains deviceModels, HostConfig config, MigrationLog log)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>From our Resumed to the source's word that its copy is gone and its disks are closed (flushed).</summary>
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(30);

    public async Task ServeAsync(Socket socket, CancellationToken cancel)
    {
        await using var peer = new PeerSocket(socket);
        var name = "?";
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(32);
            await peer.SendAsync(new MigrateChallenge(nonce, config.Arch), cancel).ConfigureAwait(false);
            var offer = await peer.ReceiveAsync<MigrateOffer>(HandshakeTimeout, cancel).ConfigureAwait(false);
            name = offer.Name;
            var (refusal, domainConfig) = Check(offer, nonce);
            if (refusal is not null)
            {
                log.Refused(peer.Peer, refusal);
                await peer.SendAsync(new MigrateAnswer(false, refusal), cancel).ConfigureAwait(false);
                return;
            }

            await peer.SendAsync(new MigrateAnswer(true, ""), cancel).ConfigureAwait(false);
            await ReceiveAsync(peer, offer, domainConfig!, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or KernelRequestException or KernelConnectionLostException or Daemon.ToolstackException or Daemon.DomainOperationException)
        {
            log.IncomingFailed(name, peer.Peer, e.Message);
        }
    }

    private (string? Refusal, DomainConfig? Config) Check(MigrateOffer offer, byte[] nonce)
    {
        if (config.MigrationKey is not { } key || !MigrationKey.Check(key, nonce, offer.Proof))
        {
            return ("refused: wrong migration key", null);
        }

        if (offer.Isa == "rv64" && config.Arch == "rv32")
        {
            return ($"refused: '{offer.Name}' is an rv64 guest and this host is rv32", null);
        }

        if (registry.Snapshot().Any(g => g.Name == offer.Name))
        {
            return ($"refused: a domain named '{offer.Name}' already exists here", null);
        }

        // The config comes with the offer (the source's file may exist only there), as a save file's header carries it.
        if (offer.State is null)
        {
            return ($"refused: the offer of '{offer.Name}' carries no config", null);
        }

        try
        {
            return (null, GuestStates.ConfigOf(ToolstackState.Decode(offer.State)) with { Name = offer.Name }); // a restore --name renamed it
        }
        catch (DomainImageException e)
        {
            return ($"refused: the config offered with '{offer.Name}' does not decode: {e.Message}", null);
        }
    }

    private async Task ReceiveAsync(PeerSocket peer, MigrateOffer offer, DomainConfig domainConfig, CancellationToken cancel)
    {
        // A connection of its own: the kernel holds the session while it reads the whole stream and does the
        // hand-off with the source's kernel (MigrationHandOff): it says Built (with its memory digest under
        // --verify), waits for the Commit, unpauses the guest (unless it was paused there) and says Resumed.
        await using var session = await KernelClient.ConnectAsync(kernel.Child.Socket, kernel.Child.Token, cancel).ConfigureAwait(false);
        var hvm = domainConfig.Type == DomainType.Hvm;
        var fd = peer.Descriptor();
        ControlMessage reply;
        try
        {
            // An HVM guest stays paused after the commit until its qemu-dm is named its device model (below).
            reply = await session.RequestAsync(new MigrationReceive(offer.Name, 0, services.XenstoreDomain, offer.Verify, offer.Paused || hvm), [fd], cancel).ConfigureAwait(false);
        }
        finally
        {
            PeerSocket.Release(fd);
        }

        if (reply is not DomainCreated created)
        {
            // Nothing was kept; the kernel told the source's kernel why (or it was gone).
            throw new MigrationException(reply is ErrorReply e ? e.Message : reply.GetType().Name);
        }

        // The guest runs here now, whatever the source hears. Its devices attach once the source's backends have
        // flushed and closed its disks (a writable disk is one writer's at a time); meanwhile its frontends wait for
        // xenstore, which serves it only from here. The state the source took (as a save does): its config as it is
        // now, hot-plugged devices included, and its own xenstore nodes, re-homed under its id as a restore does.
        var state = Decode(await AwaitReleaseAsync(peer, offer.Name, cancel).ConfigureAwait(false), peer, offer.Name);
        if (state is not null)
        {
            domainConfig = GuestStates.ConfigOf(state) with { Name = offer.Name };
        }

        var guest = new Guest { Name = offer.Name, Config = domainConfig, ConfigPath = offer.ConfigPath, Weight = domainConfig.Weight, Cap = domainConfig.Cap, Uuid = offer.Uuid, Isa = offer.Isa };
        if (hvm)
        {
            // Its qemu-dm is named the device model, then the guest runs (its MMIO accesses wait in their ioreq
            // slots), then the process starts with the state from the stream: the source's qemu-dm has flushed and
            // closed the disks by now (the release above). A state this host's qemu-dm would not take (a source
            // that is not ours) leaves the guest paused here, saying why.
            var deviceModelState = DeviceModelStateOf(created, out var refusal);
            if (refusal is not null)
            {
                await guests.AdoptAsync(guest, created, paused: true, cancel).ConfigureAwait(false);
                throw new MigrationException($"'{offer.Name}' arrived paused: {refusal}");
            }

            Func<Task>? unpause = offer.Paused ? null : async () =>
                await session.CallAsync<Disagg.Control.Messages.OkReply>(new DomainCommand(created.DomainId, DomainOperation.Unpause), cancel).ConfigureAwait(false);
            await deviceModels.StartAsync(guest, created.DomainId, cancel, deviceModelState, afterNamed: unpause).ConfigureAwait(false);
        }

        await guests.AdoptAsync(guest, created, paused: true, cancel).ConfigureAwait(false);
        if (state is not null)
        {
            await states.RehomeXenstoreAsync(state, created.DomainId, offer.Name, cancel).ConfigureAwait(false);
        }

        log.Arrived(offer.Name, peer.Peer, created.DomainId);
    }

    /// <summary>An HVM guest's device model state from the stream; null (with why) if this host's qemu-dm would not take it.</summary>
    private static Disagg.DomainImage.DeviceModelRecord? DeviceModelStateOf(DomainCreated created, out string? refusal)
    {
        refusal = null;
        if (created.DeviceModelState is not { } bytes)
        {
            return null;
        }

        try
        {
            var state = Disagg.DomainImage.DeviceModelRecord.Decode(bytes);
            Daemon.DeviceModels.DeviceModelStateFiles.Check(state, -1);
            return state;
        }
        catch (Exception e) when (e is Disagg.DomainImage.DomainImageException or Nerdbank.MessagePack.MessagePackSerializationException)
        {
            refusal = $"its device model state: {e.Message}";
            return null;
        }
    }

    /// <returns>The guest's toolstack state the source sent with the release, or null.</returns>
    private async Task<byte[]?> AwaitReleaseAsync(PeerSocket peer, string name, CancellationToken cancel)
    {
        try
        {
            var released = await peer.ReceiveAsync<MigrateReleased>(ReleaseTimeout, cancel).ConfigureAwait(false);
            if (released.Held.Length > 0)
            {
                log.DevicesLate(name, peer.Peer, $"the source's blkback still holds {released.Held}: those disks will be refused here until it lets go");
            }

            return released.State;
        }
        catch (MigrationException e)
        {
            log.DevicesLate(name, peer.Peer, $"no word that the source released the guest's disks ({e.Message}); attaching its devices anyway");
            return null;
        }
    }

    /// <summary>The source's state, or null (with a log line) when it sent none or one that does not decode: the offer's config's devices then.</summary>
    private ToolstackState? Decode(byte[]? bytes, PeerSocket peer, string name)
    {
        if (bytes is null)
        {
            log.DevicesLate(name, peer.Peer, "no state came with the release; its devices come from the config the offer carried, its own xenstore nodes are lost");
            return null;
        }

        try
        {
            var state = ToolstackState.Decode(bytes);
            GuestStates.ConfigOf(state);
            return state;
        }
        catch (DomainImageException e)
        {
            log.DevicesLate(name, peer.Peer, $"its state does not decode ({e.Message}); its devices come from the config the offer carried, its own xenstore nodes are lost");
            return null;
        }
    }
}
