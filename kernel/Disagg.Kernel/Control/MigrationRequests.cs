using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.DomainImage;
using Disagg.Interop;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Migration;

namespace Disagg.Kernel.Control;

/// <summary>
/// The dirty log's clean and the two ends of a live migration (docs/SAVE-RESTORE.md, "Live migration"): the
/// toolstack connects the hosts and authenticates the peer; the kernel writes and reads the stream on the
/// socket it is handed, so guest memory goes from one kernel to the other with no copy in between.
/// </summary>
internal static class MigrationRequests
{
    /// <summary>A peer that stops reading or writing for this long has failed the migration.</summary>
    private const int StallMs = 60_000;

    public static DirtyBitmap Clean(Hypervisor hv, CleanDirtyLog c)
    {
        var d = Find(hv, c.DomainId);
        if (!d.Memory.DirtyLogging)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: the dirty log is off (DomainCommand EnableDirtyLog starts it)");
        }

        var bitmap = Clean(hv, d);
        var bytes = new byte[bitmap.Length * 8];
        Buffer.BlockCopy(bitmap, 0, bytes, 0, bytes.Length);
        return new DirtyBitmap(bytes, DirtyLog.Count(bitmap));
    }

    public static MemoryHash Hash(Hypervisor hv, HashMemory h)
    {
        var d = Find(hv, h.DomainId);
        if (d.State is not (DomainState.Paused or DomainState.Shutdown or DomainState.Crashed))
        {
            throw new DomainRequestException(XenErrno.EBUSY, $"domain {d.Id} is {d.State}: pause it before hashing its memory");
        }

        var (hash, pages) = MemoryDigest.Compute(d);
        return new MemoryHash(hash, pages);
    }

    public static MigrationRoundSent Send(Hypervisor hv, MigrationSend m, FileDescriptor fd)
    {
        using var socket = fd;
        var raw = new DescriptorStream(fd, StallMs);
        var stream = new BufferedStream(raw, 1 << 20); // records are written in two parts each
        var d = Find(hv, m.DomainId);
        var timeline = new MigrationTimeline();
        var pausedHere = false;
        try
        {
            if (m.Stage == MigrationStage.Finish)
            {
                // The stop itself: pausing here spares the downtime a request and reply between the toolstack and us.
                pausedHere = m.Pause && d.State is not (DomainState.Paused or DomainState.Shutdown or DomainState.Crashed or DomainState.Dying);
                if (pausedHere)
                {
                    d.Pause();
                }

                timeline.Mark(MigrationStep.Paused);
                if (d.State == DomainState.Shutdown && d.ShutdownReason == ShutdownReason.Suspend && d.ShutdownAt != 0)
                {
                    timeline.Mark(MigrationStep.Paused, d.ShutdownAt); // it stopped itself: its SHUTDOWN_suspend
                }
            }

            var round = m.Stage switch
            {
                MigrationStage.Start => MigrationSender.Start(hv, d, stream, m.Config ?? []),
                MigrationStage.Round => MigrationSender.Round(hv, d, stream, m.FirstRecord),
                MigrationStage.Finish => MigrationSender.Finish(hv, d, stream, m.FirstRecord, DeviceModel(d, m.DeviceModelState), timeline),
                MigrationStage.CatchUp => new MigrationRound(0, 0, 0, d.Memory.CountDirty(), MigrationHandOff.AwaitCaughtUp(raw, m.Sent)),
                _ => throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: unknown migration stage {m.Stage}"),
            };
            var sent = new MigrationRoundSent(round.Records, round.Pages, round.Bytes, round.DirtyNow, (long)round.Elapsed.TotalNanoseconds);
            if (m.Stage != MigrationStage.Finish)
            {
                return sent;
            }

            var handedOff = HandOff(d, stream, raw, m.Verify, sent, timeline);
            pausedHere = false; // committed: the domain stays paused, the toolstack destroys it (or keeps it stopped, unconfirmed)
            return handedOff;
        }
        catch (MigrationHandOffException e)
        {
            // Before the commit: the toolstack lets the domain run on here.
            throw new DomainRequestException(XenErrno.EIO, $"domain {d.Id}: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new DomainRequestException(XenErrno.ENOSYS, e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new DomainRequestException(XenErrno.EBUSY, e.Message);
        }
        catch (IOException e)
        {
            // The target went away or stalled: the toolstack stops the log and lets the domain run on here.
            throw new DomainRequestException(XenErrno.EIO, $"domain {d.Id}: migration stream: {e.Message}");
        }
        finally
        {
            if (pausedHere)
            {
                d.Unpause(); // not handed over: it runs on here as before
            }

            Close(stream);
        }
    }

    /// <summary>The source's hand-off after the stop round; committed and unconfirmed is a reply, not an error (the domain stays paused).</summary>
    private static MigrationRoundSent HandOff(Domain d, Stream stream, Stream raw, bool verify, MigrationRoundSent sent, MigrationTimeline timeline)
    {
        try
        {
            var times = MigrationHandOff.Commit(d, stream, raw, verify, timeline);
            return sent with { TargetDomainId = times.TargetDomainId, BuiltNs = (long)times.ToBuilt.TotalNanoseconds, ResumedNs = (long)times.ToResumed.TotalNanoseconds, Timeline = timeline.Encode() };
        }
        catch (MigrationHandOffException e) when (e.Committed)
        {
            return sent with { Unconfirmed = e.Message, Timeline = timeline.Encode() };
        }
    }

    public static DomainCreated Receive(Hypervisor hv, MigrationReceive r, FileDescriptor fd)
    {
        using var socket = fd;
        return Receive(hv, r, new DescriptorStream(fd, StallMs));
    }

    private static DomainCreated Receive(Hypervisor hv, MigrationReceive r, DescriptorStream stream)
    {
        if (!string.IsNullOrEmpty(r.Name) && hv.Domains.Snapshot().Any(d => d.Name == r.Name))
        {
            throw Refused(stream, XenErrno.EEXIST, $"domain '{r.Name}' already exists");
        }

        Domain d;
        DeviceModelRecord? model = null;
        var timeline = new MigrationTimeline();
        var applied = new System.Runtime.CompilerServices.StrongBox<long>();
        stream.WouldBlock = MigrationHandOff.CaughtUpReporter(stream, () => applied.Value);
        try
        {
            (d, _) = MigrationReceiver.Receive(hv, stream, r.Name, r.ConsoleBackendDomain, r.XenstoreDomain, deviceModel: m => model = m, timeline: timeline, lastWake: () => stream.WokeAt, applied: applied);
        }
        catch (DomainImageException e)
        {
            throw Refused(stream, e.Error == DomainImageError.Truncated ? XenErrno.EIO : XenErrno.EINVAL, e.Message);
        }
        catch (IOException e)
        {
            throw Refused(stream, XenErrno.EIO, e.Message);
        }
        catch (MemoryBudgetExceededException e)
        {
            throw Refused(stream, XenErrno.ENOMEM, e.Message);
        }
        catch (ArgumentException e)
        {
            throw Refused(stream, XenErrno.EINVAL, e.Message);
        }

        stream.WouldBlock = null;
        try
        {
            MigrationHandOff.AwaitCommit(d, stream, r.Verify, r.Paused, timeline);
        }
        catch (Exception e) when (e is MigrationHandOffException or IOException)
        {
            hv.DestroyDomain(d); // no commit: the guest stays the source's
            throw new DomainRequestException(XenErrno.EIO, $"incoming migration: {e.Message}");
        }

        return new DomainCreated(d.Id, d.ConsolePort, d.XenstorePort, PvLayout.SpecialFrame(PvLayout.ConsolePage), PvLayout.SpecialFrame(PvLayout.XenstorePage), model?.Encode());
    }

    /// <summary>Tells the source's kernel why (it waits for Built after its stop round), and fails the request.</summary>
    private static DomainRequestException Refused(Stream stream, XenErrno errno, string reason)
    {
        MigrationHandOff.Refuse(stream, reason);
        return new DomainRequestException(errno, $"incoming migration: {reason}");
    }

    /// <summary>An HVM domain's device model state for the stop round (the toolstack's bytes, checked here).</summary>
    private static DeviceModelRecord? DeviceModel(Domain d, byte[]? state)
    {
        if (state is null)
        {
            return null;
        }

        if (!d.Spec.Hvm)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id} is PV: it has no device model state");
        }

        try
        {
            return DeviceModelRecord.Decode(state);
        }
        catch (Nerdbank.MessagePack.MessagePackSerializationException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: its device model state does not decode: {e.Message}");
        }
    }

    private static ulong[] Clean(Hypervisor hv, Domain d)
    {
        try
        {
            return DirtyLog.Clean(hv, d);
        }
        catch (InvalidOperationException e)
        {
            throw new DomainRequestException(XenErrno.EBUSY, e.Message);
        }
    }

    private static Domain Find(Hypervisor hv, int id) => hv.Domains[id] ?? throw new DomainRequestException(XenErrno.ESRCH, $"no domain {id}");

    /// <summary>Flushes what a round left in its buffer; after a failed round that fails again, and the round's error was replied.</summary>
    private static void Close(Stream stream)
    {
        try
        {
            stream.Dispose();
        }
        catch (IOException)
        {
            // the stream already failed; its error is the request's reply
        }
    }
}
