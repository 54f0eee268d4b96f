using System.Diagnostics;
using System.Net.Sockets;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Daemon.Save;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Xenstore;
using OkReply = Disagg.Control.Messages.OkReply;

namespace Disagg.Toolstack.Migration;

/// <summary>
/// `disagg migrate DOMAIN TARGET`: pre-copy with the kernel's dirty log — everything, then what was dirtied
/// meanwhile, round after round, until the remainder is small or the rounds stop shrinking — then the
/// stop-and-copy with the guest stopped (a PV guest suspends itself as for a save, so its frontends reconnect
/// to fresh rings on the target; without xenstored it is paused), the target's word that it has the whole guest, our commit, its resume,
/// and only then the guest is destroyed here. Until the commit, any failure (a refusal, the target dying, the
/// connection dropping) stops the dirty log and lets the guest run on here as if nothing happened.
/// </summary>
internal sealed class MigrationSource(KernelLink kernel, GuestRegistry registry, GuestDomains guests, GuestSuspend suspend, GuestStates states, XenstoreDomains xenstore, Daemon.DeviceModels.DeviceModelDomains deviceModels, MigrationLog log)
{
    /// <summary>Stop pre-copy once this few pages are dirty: the last round then costs about a millisecond.</summary>
    private const long SmallRemainder = 256;

    /// <summary>Rounds in a row that did not shrink the dirty set before pre-copy gives up and stops the guest.</summary>
    private const int NonConvergingRounds = 3;

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long our blkback may take to flush and close the guest's disks after its domain went.</summary>
    private static readonly TimeSpan DiskReleaseTimeout = TimeSpan.FromSeconds(20);

    public async Task<MigrateReply> RunAsync(MigrateRequest request, Func<MigrateProgress, Task> progress, CancellationToken cancel)
    {
        var (_, found) = await registry.ResolveAsync(request.Domain, cancel).ConfigureAwait(false);
        var guest = found ?? throw new ToolstackException($"'{request.Domain}' is not a guest of this host");
        try
        {
            return await MigrateAsync(guest, request, progress, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is MigrationException or KernelRequestException or SocketException or HostConfigException)
        {
            log.OutgoingFailed(guest.Name, request.Target, e.Message);
            throw new DomainOperationException(guest.Name, $"migration to {request.Target} failed; it runs on here: {e.Message}");
        }
    }

    private async Task<MigrateReply> MigrateAsync(Guest guest, MigrateRequest request, Func<MigrateProgress, Task> progress, CancellationToken cancel)
    {
        var total = Stopwatch.StartNew();
        var endpoint = MigrationListener.Parse(request.Target, "TARGET");
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            connect.CancelAfter(ConnectTimeout);
            try
            {
                await socket.ConnectAsync(endpoint, connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new MigrationException($"{request.Target} did not answer within {ConnectTimeout.TotalSeconds:F0} s");
            }
        }

        socket.SendBufferSize = 4 << 20;
        await using var peer = new PeerSocket(socket);
        var challenge = await peer.ReceiveAsync<MigrateChallenge>(AnswerTimeout, cancel).ConfigureAwait(false);
        var key = System.Text.Encoding.UTF8.GetBytes(request.Key.Trim());
        var isa = GuestWidth.Of(guest);
        var summary = (await kernel.Client.CallAsync<DomainList>(new ListDomains(), cancel).ConfigureAwait(false)).Domains.FirstOrDefault(d => d.DomainId == guest.Id)
            ?? throw new MigrationException($"domain {guest.Id} is gone");
        var wasPaused = summary.State.Contains('p', StringComparison.Ordinal);
        await peer.SendAsync(new MigrateOffer(MigrationKey.Prove(key, challenge.Nonce), guest.Name, isa, summary.MaxMemoryKiB, Path.GetFullPath(guest.ConfigPath), guest.Uuid, wasPaused, request.Verify, GuestStates.Describe(guest, guest.Id).Encode()), cancel).ConfigureAwait(false);
        var answer = await peer.ReceiveAsync<MigrateAnswer>(AnswerTimeout, cancel).ConfigureAwait(false);
        if (!answer.Accepted)
        {
            throw new MigrationException($"{request.Target} {answer.Reason}");
        }

        // A connection of its own: each round holds the kernel's session while it writes to the socket.
        await using var session = await KernelClient.ConnectAsync(kernel.Child.Socket, kernel.Child.Token, cancel).ConfigureAwait(false);
        var id = guest.Id;
        var hvm = guest.Config.Type == Config.DomainType.Hvm;
        // HVM: paused, no cooperation — by this daemon, before its qemu-dm is frozen; a PV guest without xenstored by the
        // kernel at the Finish, unless --no-live stops it before the copy.
        var stop = new GuestStop(kernel.Client, suspend, xenstore.Available && !hvm, id, guest.Name, wasPaused, kernelPauses: !hvm && request.Live);
        var frozen = false;
        var committed = false;
        var logging = false;
        var rounds = 0;
        long pages = 0, bytes = 0;
        try
        {
            if (!request.Live)
            {
                await stop.StopAsync(cancel).ConfigureAwait(false);
            }

            logging = true;
            var round = await SendAsync(session, peer, new MigrationSend(id, MigrationStage.Start, 0, []), cancel).ConfigureAwait(false);
            var records = round.Records;
            pages += round.Pages;
            bytes += round.Bytes;
            rounds = 1;
            await Report(progress, "round", rounds, pages, bytes, round, total).ConfigureAwait(false);
            var growing = 0;
            while (request.Live && rounds < request.MaxRounds && round.DirtyPages > SmallRemainder && growing < NonConvergingRounds)
            {
                var previous = round;
                round = await SendAsync(session, peer, new MigrationSend(id, MigrationStage.Round, records, []), cancel).ConfigureAwait(false);
                records += round.Records;
                pages += round.Pages;
                bytes += round.Bytes;
                rounds++;
                growing = round.DirtyPages >= previous.Pages ? growing + 1 : 0;
                await Report(progress, "round", rounds, pages, bytes, round, total).ConfigureAwait(false);
            }

            // The target's kernel may still be applying the pre-copy rounds (the socket's buffers hold megabytes):
            // the stop round would queue behind them and the guest wait stopped. So first wait, running, until it
            // has applied everything sent (its CaughtUp frames); what was dirtied meanwhile goes in the stop round.
            var catchUp = TimeSpan.Zero;
            if (request.Live)
            {
                catchUp = TimeSpan.FromTicks((await SendAsync(session, peer, new MigrationSend(id, MigrationStage.CatchUp, records, [], Sent: pages), cancel).ConfigureAwait(false)).ElapsedNs / 100);
            }

            // The stop round and the hand-off in one request: our kernel writes the last pages and the state, the
            // target's kernel builds the domain and says so, ours commits (after comparing memory digests under
            // --verify), the target's unpauses it and says so — kernel to kernel on the socket, no daemon between.
            await stop.StopAsync(cancel).ConfigureAwait(false);
            var phase = Stopwatch.GetTimestamp();
            byte[]? deviceModel = null;
            if (hvm)
            {
                // Its device model's state goes in the stop round, as in a save (docs/SAVE-RESTORE.md, "HVM").
                frozen = true;
                deviceModel = (await deviceModels.FreezeAsync(guest, id, cancel).ConfigureAwait(false)).Encode();
            }

            var finishAt = Stopwatch.GetTimestamp();
            round = await SendAsync(session, peer, new MigrationSend(id, MigrationStage.Finish, records, [], request.Verify, DeviceModelState: deviceModel, Pause: stop.LeftToKernel), cancel).ConfigureAwait(false);
            var finish = Lap(ref phase);
            var (steps, downtimeUs, targetClock) = StopTimeline.Read(round.Timeline, stop.StoppedAt);
            if (steps.Count == 0)
            {
                downtimeUs = Us(Stopwatch.GetElapsedTime(stop.StoppedAt != 0 ? stop.StoppedAt : finishAt)); // no stamps: to the Finish's reply
            }
            committed = true; // a Finish that replies (not an error) got past the commit
            pages += round.Pages;
            bytes += round.Bytes;
            rounds++;
            if (round.Unconfirmed.Length > 0)
            {
                throw new MigrationException($"{request.Target}: {round.Unconfirmed}");
            }

            await Report(progress, "resumed", rounds, pages, bytes, round with { DirtyPages = 0 }, total).ConfigureAwait(false);

            // The target runs the guest now. What a save file's header would carry (its config with hot-plugged
            // devices, its own xenstore nodes) is taken before ours goes, console, xenstore entries and backends
            // with it; it travels with the release. Its disks go to the target only once our blkback (or qemu-dm,
            // let go to exit) has flushed and closed them (DiskHandOff).
            var state = await CaptureStateAsync(guest, id, request.Target).ConfigureAwait(false);
            if (frozen)
            {
                deviceModels.Thaw(guest);
            }

            await guests.ActAsync(guest.Name, DomainAction.Destroy, wait: false, CancellationToken.None).ConfigureAwait(false);
            var held = await DiskHandOff.WaitReleasedAsync(guest.Config.Disks, DiskReleaseTimeout, CancellationToken.None).ConfigureAwait(false);
            if (held.Count > 0)
            {
                log.DisksHeld(guest.Name, request.Target, string.Join(", ", held), DiskReleaseTimeout.TotalSeconds);
            }

            await TrySendAsync(peer, new MigrateReleased(string.Join(", ", held), state)).ConfigureAwait(false);
            var release = Lap(ref phase);
            log.Left(guest.Name, request.Target, rounds, pages, total.Elapsed.TotalMilliseconds, downtimeUs / 1000.0);
            // Phases: the stop round as our kernel timed it; to Built and Commit to Resumed as it waited on the socket;
            // what is left of the request is the two hops between this daemon and our kernel.
            var (stopRound, built, resumedWait) = (round.ElapsedNs / 1000, round.BuiltNs / 1000, round.ResumedNs / 1000);
            return new MigrateReply(guest.Name, request.Target, round.TargetDomainId, rounds, pages, bytes, (long)total.Elapsed.TotalMicroseconds, downtimeUs, steps, targetClock,
                (long)stop.Took.TotalMicroseconds, stopRound, built, resumedWait, Us(release))
            {
                RequestUs = Math.Max(0, Us(finish) - stopRound - built - resumedWait),
                StopHops = stop.Hops,
                HandOffHops = HandOffHops,
                CatchUpUs = Us(catchUp),
            };
        }
        catch when (!committed)
        {
            // Nothing happened: the log stops, the guest runs on (unless it was paused before we came).
            if (logging)
            {
                await kernel.Client.RequestAsync(new DomainCommand(id, DomainOperation.DisableDirtyLog), CancellationToken.None).ConfigureAwait(false);
            }

            if (frozen)
            {
                deviceModels.Thaw(guest);
            }

            await stop.UndoAsync().ConfigureAwait(false);
            if (stop.Suspended)
            {
                // Its suspend completed Settled (a shutdown with "preserve"); running again, it has not settled.
                guest.Settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            throw;
        }
        catch (MigrationException e)
        {
            // Committed but no word back: the target may be running it. Running ours too could corrupt its disks.
            throw new MigrationException($"{e.Message}; the guest was handed over and stays paused here: check {request.Target} before unpausing it");
        }
    }

    /// <summary>The guest's toolstack state (GuestStates, as a save takes it); null when xenstore cannot give its subtree: the target then recreates the guest from the config the offer carried.</summary>
    private async Task<byte[]?> CaptureStateAsync(Guest guest, int id, string target)
    {
        try
        {
            return (await states.CaptureAsync(guest, id, CancellationToken.None).ConfigureAwait(false)).Encode();
        }
        catch (DomainOperationException e)
        {
            log.StateLost(guest.Name, target, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The Finish request's crossings, fixed by the protocol: this daemon to our kernel, the stream's end to the
    /// target's kernel, its Built, our Commit, its Resumed, our kernel's reply. (Before the kernels did the hand-off
    /// themselves there were nine, four of them through the target's daemon.)
    /// </summary>
    private const int HandOffHops = 6;

    private static TimeSpan Lap(ref long since)
    {
        var now = Stopwatch.GetTimestamp();
        var lap = Stopwatch.GetElapsedTime(since, now);
        since = now;
        return lap;
    }

    private static long Us(TimeSpan t) => (long)t.TotalMicroseconds;

    private static async Task TrySendAsync(PeerSocket peer, DaemonMessage message)
    {
        try
        {
            await peer.SendAsync(message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (MigrationException)
        {
            // the target went away after it resumed the guest: its devices attach when it gives up waiting
        }
    }

    private static async Task<MigrationRoundSent> SendAsync(KernelClient session, PeerSocket peer, MigrationSend send, CancellationToken cancel)
    {
        var fd = peer.Descriptor();
        try
        {
            var reply = await session.RequestAsync(send, [fd], cancel).ConfigureAwait(false);
            return reply as MigrationRoundSent ?? throw new MigrationException(reply is Disagg.Control.Messages.ErrorReply e ? e.Message : reply.GetType().Name);
        }
        finally
        {
            PeerSocket.Release(fd);
        }
    }

    private static Task Report(Func<MigrateProgress, Task> progress, string stage, int round, long pages, long bytes, MigrationRoundSent last, Stopwatch total)
    {
        var seconds = last.ElapsedNs / 1e9;
        var rate = seconds > 0 ? (long)(last.DirtyPages / seconds) : 0;
        return progress(new MigrateProgress(stage, round, pages, bytes, last.DirtyPages, rate, total.ElapsedMilliseconds));
    }
}
