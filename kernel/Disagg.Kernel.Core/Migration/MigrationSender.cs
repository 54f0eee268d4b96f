using Disagg.DomainImage;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Persist;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// The source's side of a live migration, one pre-copy round per call (docs/SAVE-RESTORE.md, "Live migration").
/// The stream is a domain image in the migration order: header, domain, memory runs (round after round, a
/// frame as often as it was dirtied), then at the stop: the domain again, vCPUs, event channels, grant
/// table, end. An HVM domain's platform record follows its first domain record (the target creates an HVM
/// domain) and comes again after the grant table, with the device model's state, at the stop. The toolstack decides when to stop; this writes what it is asked to.
/// </summary>
public static class MigrationSender
{
    /// <summary>
    /// Round 0: starts the dirty log, then writes the header, the domain record and every populated page
    /// while the domain keeps running.
    /// </summary>
    public static MigrationRound Start(Hypervisor hypervisor, Domain domain, Stream stream, byte[] config)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        DirtyLog.Enable(domain);
        var writer = new DomainImageWriter(stream, 0);
        writer.Write(new ImageHeader { Isa = domain.Spec.Isa == IsaWidth.Rv32 ? ImageIsa.Rv32 : ImageIsa.Rv64, Config = config });
        writer.Write(DomainSave.CaptureDomain(domain));
        if (domain.Spec.Hvm)
        {
            // Says the domain is HVM before any memory: the target creates it as such (its state comes at the stop).
            writer.Write(HvmSnapshot.Capture(domain));
        }

        var memory = domain.Memory;
        var all = new ulong[(memory.MaxPages + PvLayout.SpecialPages + 63) / 64];
        for (var bit = 0L; bit < memory.MaxPages + PvLayout.FirstGrantPage; bit++)
        {
            all[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        var pages = WriteFrames(domain, writer, all);
        stream.Flush();
        return new MigrationRound(writer.Records, pages, writer.Bytes, memory.CountDirty(), System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>A pre-copy round: the pages dirtied since the last round, while the domain keeps running.</summary>
    public static MigrationRound Round(Hypervisor hypervisor, Domain domain, Stream stream, int firstRecord)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var writer = new DomainImageWriter(stream, firstRecord);
        var pages = WriteFrames(domain, writer, DirtyLog.Clean(hypervisor, domain));
        stream.Flush();
        return new MigrationRound(writer.Records - firstRecord, pages, writer.Bytes, domain.Memory.CountDirty(), System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// Stop-and-copy: the domain is paused; the last dirty pages, then its state, then the end record. The
    /// dirty log stays on, so a failed hand-off can go back to pre-copy or simply stop it.
    /// </summary>
    /// <param name="deviceModel">An HVM domain's device model state (the toolstack's), sent after its platform.</param>
    /// <param name="timeline">Gets the steps' stamps (OffCpu, LastDirtyRead).</param>
    public static MigrationRound Finish(Hypervisor hypervisor, Domain domain, Stream stream, int firstRecord, DeviceModelRecord? deviceModel = null, MigrationTimeline? timeline = null)
    {
        if (domain.State is not (DomainState.Paused or DomainState.Shutdown or DomainState.Crashed))
        {
            throw new InvalidOperationException($"domain {domain.Id} is {domain.State}: pause it for the last round");
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        DomainSave.WaitOffCpu(hypervisor, domain);
        timeline?.Mark(MigrationStep.OffCpu);
        domain.Ioreq?.SettleForSave(); // as a save does (docs/SAVE-RESTORE.md, "HVM")
        var gate = domain.Ioreq?.GuestCopies;
        gate?.Enter();
        try
        {
            return FinishRecords(domain, stream, firstRecord, deviceModel, started, hypervisor, timeline);
        }
        finally
        {
            gate?.Exit();
        }
    }

    private static MigrationRound FinishRecords(Domain domain, Stream stream, int firstRecord, DeviceModelRecord? deviceModel, long started, Hypervisor hypervisor, MigrationTimeline? timeline)
    {
        var writer = new DomainImageWriter(stream, firstRecord);
        var last = DirtyLog.Clean(hypervisor, domain);
        timeline?.Mark(MigrationStep.LastDirtyRead);
        for (var bit = domain.Memory.MaxPages; bit < domain.Memory.MaxPages + PvLayout.FirstGrantPage; bit++)
        {
            // The special pages always: the kernel writes shared_info (event pending bits, vcpu_info) itself,
            // not through the P2M, so the log cannot see those stores.
            last[bit >> 6] |= 1UL << (int)(bit & 63);
        }

        var pages = WriteFrames(domain, writer, last);
        writer.Write(DomainSave.CaptureDomain(domain));
        foreach (var v in domain.Vcpus)
        {
            writer.Write(VcpuSnapshot.Capture(v));
        }

        writer.Write(DomainSave.CaptureEvents(domain));
        writer.Write(DomainSave.CaptureGrants(domain));
        if (domain.Spec.Hvm)
        {
            writer.Write(HvmSnapshot.Capture(domain));
            if (deviceModel is not null)
            {
                writer.Write(deviceModel);
            }
        }

        writer.Finish();
        return new MigrationRound(writer.Records - firstRecord, pages, writer.Bytes, 0, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// The frames set in <paramref name="bitmap"/> (RAM bits first, then special pages) that are populated, as
    /// runs of consecutive frames. Grant frames are left to the grant table record. Returns the pages written.
    /// </summary>
    private static unsafe long WriteFrames(Domain domain, DomainImageWriter writer, ulong[] bitmap)
    {
        var memory = domain.Memory;
        PageSource read = (frame, page) => new ReadOnlySpan<byte>(memory.Frame(frame, forWrite: false), page.Length).CopyTo(page);
        var limit = memory.MaxPages + PvLayout.FirstGrantPage;
        var pages = 0L;
        var bit = 0L;
        while (bit < limit)
        {
            var word = bitmap[bit >> 6] >> (int)(bit & 63);
            if (word == 0)
            {
                bit = (bit | 63) + 1; // the rest of this word is clear
                continue;
            }

            bit += System.Numerics.BitOperations.TrailingZeroCount(word);
            if (bit >= limit)
            {
                break;
            }

            // A run ends at a clear bit, at the RAM/special boundary, or at a frame ballooned out meanwhile.
            var first = memory.FrameOfDirtyBit(bit);
            var end = bit;
            var boundary = bit < memory.MaxPages ? memory.MaxPages : limit;
            while (end < boundary && (bitmap[end >> 6] & (1UL << (int)(end & 63))) != 0 && memory.Frame(first + (ulong)(end - bit), forWrite: false) != null)
            {
                end++;
            }

            if (end > bit)
            {
                writer.WritePages(first, end - bit, read);
                pages += end - bit;
                bit = end;
            }
            else
            {
                bit++; // not populated (ballooned out): nothing to send
            }
        }

        return pages;
    }
}
