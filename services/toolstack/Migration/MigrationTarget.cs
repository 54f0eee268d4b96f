using System.Net.Sockets;
using System.Security.Cryptography;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using ErrorReply = Disagg.Control.Messages.ErrorReply;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// One incoming migration: the peer proves it knows the key, offers a guest; the offer is checked here
/// (key, this host's arch against the guest's width, the name, the config) before any memory moves. Then
/// the kernel reads the stream into a paused domain on a connection of its own; the guest runs here only
/// after the source has given it up (commit), and is destroyed if the source never does.
/// </summary>
internal sealed class MigrationTarget(KernelLink kernel, GuestRegistry registry, GuestDomains guests, Daemon.ServiceDomains services, Daemon.DeviceModels.DeviceModelDomains deviceModels, HostConfig config, MigrationLog log)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>From the end of the stream to the source's commit: its hash and the last messages.</summary>
    private static readonly TimeSpan CommitTimeout = TimeSpan.FromSeconds(60);

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

        try
        {
            return (null, DomainConfigReader.Read(offer.ConfigPath, out _));
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            return ($"refused: its config {offer.ConfigPath} cannot be read here: {e.Message}", null);
        }
    }

    private async Task ReceiveAsync(PeerSocket peer, MigrateOffer offer, DomainConfig domainConfig, CancellationToken cancel)
    {
        // A connection of its own: the kernel holds the session while it reads the whole stream.
        await using var session = await KernelClient.ConnectAsync(kernel.Child.Socket, kernel.Child.Token, cancel).ConfigureAwait(false);
        var fd = peer.Descriptor();
        ControlMessage reply;
        try
        {
            reply = await session.RequestAsync(new MigrationReceive(offer.Name, 0, services.XenstoreDomain), [fd], cancel).ConfigureAwait(false);
        }
        finally
        {
            PeerSocket.Release(fd);
        }

        if (reply is not DomainCreated created)
        {
            var reason = reply is ErrorReply e ? e.Message : reply.GetType().Name;
            await TrySendAsync(peer, new MigrateReceived(false, reason), cancel).ConfigureAwait(false);
            throw new MigrationException(reason);
        }

        var adopted = false;
        try
        {
            var deviceModelState = DeviceModelStateOf(created);
            var hash = offer.Verify ? (await session.CallAsync<MemoryHash>(new HashMemory(created.DomainId), cancel).ConfigureAwait(false)).Hash : 0;
            await peer.SendAsync(new MigrateReceived(true, "", hash), cancel).ConfigureAwait(false);
            await peer.ReceiveAsync<MigrateCommit>(CommitTimeout, cancel).ConfigureAwait(false);
            adopted = true; // from here the guest is this host's, whatever the source hears

            var guest = new Guest { Name = offer.Name, Config = domainConfig, ConfigPath = offer.ConfigPath, Weight = domainConfig.Weight, Cap = domainConfig.Cap, Uuid = offer.Uuid };

            // Running first, then the console and xenstore attach: the guest's downtime ends here, and what it
            // puts in its rings meanwhile waits there for the backends. Its devices attach once the source's
            // backends have flushed and closed its disks (a writable disk is one writer's at a time); meanwhile
            // its frontends wait for xenstore, which serves it only from here.
            async Task ResumeAsync()
            {
                if (!offer.Paused)
                {
                    await session.CallAsync<OkReply>(new DomainCommand(created.DomainId, DomainOperation.Unpause), cancel).ConfigureAwait(false);
                }

                await TrySendAsync(peer, new MigrateResumed(created.DomainId), cancel).ConfigureAwait(false);
                await AwaitReleaseAsync(peer, offer.Name, cancel).ConfigureAwait(false);
            }

            if (domainConfig.Type == DomainType.Hvm)
            {
                // An HVM guest: its qemu-dm is named the device model before the guest runs (its MMIO accesses wait
                // in their ioreq slots), and its process starts, with the state from the stream, once the source's
                // qemu-dm has flushed and closed the disks.
                await deviceModels.StartAsync(guest, created.DomainId, cancel, deviceModelState, afterNamed: ResumeAsync).ConfigureAwait(false);
            }
            else
            {
                await ResumeAsync().ConfigureAwait(false);
            }

            await guests.AdoptAsync(guest, created, paused: true, cancel).ConfigureAwait(false);
            log.Arrived(offer.Name, peer.Peer, created.DomainId);
        }
        finally
        {
            if (!adopted)
            {
                await session.RequestAsync(new DomainCommand(created.DomainId, DomainOperation.Destroy), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>An HVM guest's device model state from the stream, refused here (before Received: the source keeps its guest) if this host's qemu-dm would not take it.</summary>
    private static Disagg.DomainImage.DeviceModelRecord? DeviceModelStateOf(DomainCreated created)
    {
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
            throw new MigrationException($"its device model state: {e.Message}");
        }
    }

    private async Task AwaitReleaseAsync(PeerSocket peer, string name, CancellationToken cancel)
    {
        try
        {
            var released = await peer.ReceiveAsync<MigrateReleased>(ReleaseTimeout, cancel).ConfigureAwait(false);
            if (released.Held.Length > 0)
            {
                log.DevicesLate(name, peer.Peer, $"the source's blkback still holds {released.Held}: those disks will be refused here until it lets go");
            }
        }
        catch (MigrationException e)
        {
            log.DevicesLate(name, peer.Peer, $"no word that the source released the guest's disks ({e.Message}); attaching its devices anyway");
        }
    }

    private static async Task TrySendAsync(PeerSocket peer, DaemonMessage message, CancellationToken cancel)
    {
        try
        {
            await peer.SendAsync(message, cancel).ConfigureAwait(false);
        }
        catch (MigrationException)
        {
            // the source went away: what it does next is its own (it keeps the guest unless it committed)
        }
    }
}
