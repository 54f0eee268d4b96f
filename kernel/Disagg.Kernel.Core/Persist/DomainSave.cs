using System.Buffers.Binary;
using Disagg.Abi.Events;
using Disagg.Abi.Grants;
using Disagg.DomainImage;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Persist;

/// <summary>
/// Captures a paused domain into an image (docs/SAVE-RESTORE.md): its sizes and life-cycle state, every
/// vCPU's architectural state, its populated RAM and the kernel-provided special pages (start_info,
/// shared_info with its pending and mask bits, the console and xenstore rings), its event channel table and
/// its grant table; for an HVM domain its platform (the PLIC) and its device model's state after them.
/// Memory streams out run by run; nothing is held beyond one run.
/// </summary>
public static class DomainSave
{
    /// <summary>
    /// Writes <paramref name="domain"/> to <paramref name="stream"/>. It must be paused (or shut down) by the
    /// control domain and stays so: the caller destroys it, keeps it paused or unpauses it.
    /// </summary>
    /// <param name="config">The toolstack's configuration of the domain, carried opaquely in the header.</param>
    /// <returns>The bytes written.</returns>
    /// <param name="deviceModel">An HVM domain's device model state (the toolstack's, opaque here), written after the platform.</param>
    public static unsafe long Write(Hypervisor hypervisor, Domain domain, Stream stream, byte[]? config = null, DeviceModelRecord? deviceModel = null)
    {
        if (domain.State is not (DomainState.Paused or DomainState.Shutdown or DomainState.Crashed))
        {
            throw new InvalidOperationException($"domain {domain.Id} is {domain.State}: only a paused domain can be saved");
        }

        if (deviceModel is not null && !domain.Spec.Hvm)
        {
            throw new ArgumentException($"domain {domain.Id} is PV: it has no device model state");
        }

        WaitOffCpu(hypervisor, domain);

        // HVM: answers already in the ioreq slots are taken now; the device model's copies wait until the capture is done.
        domain.Ioreq?.SettleForSave();
        var gate = domain.Ioreq?.GuestCopies;
        gate?.Enter();
        try
        {
            return WriteRecords(domain, stream, config, deviceModel);
        }
        finally
        {
            gate?.Exit();
        }
    }

    private static unsafe long WriteRecords(Domain domain, Stream stream, byte[]? config, DeviceModelRecord? deviceModel)
    {
        var writer = new DomainImageWriter(stream);
        writer.Write(new ImageHeader { Isa = domain.Spec.Isa == IsaWidth.Rv32 ? ImageIsa.Rv32 : ImageIsa.Rv64, Config = config ?? [] });
        writer.Write(CaptureDomain(domain));
        foreach (var v in domain.Vcpus)
        {
            writer.Write(VcpuSnapshot.Capture(v));
        }

        var memory = domain.Memory;
        PageSource read = (frame, page) => new ReadOnlySpan<byte>(memory.Frame(frame, forWrite: false), page.Length).CopyTo(page);
        writer.WritePages(PvLayout.SpecialFirstFrame, PvLayout.FirstGrantPage, read);
        for (var i = 0L; i < memory.MaxPages;)
        {
            // Runs of populated frames; the ballooned-out holes between them are simply absent.
            var start = i;
            while (i < memory.MaxPages && memory.Frame(PvLayout.RamFirstFrame + (ulong)i, forWrite: false) != null)
            {
                i++;
            }

            if (i > start)
            {
                writer.WritePages(PvLayout.RamFirstFrame + (ulong)start, i - start, read);
            }

            i++;
        }

        writer.Write(CaptureEvents(domain));
        writer.Write(CaptureGrants(domain));
        if (domain.Spec.Hvm)
        {
            writer.Write(HvmSnapshot.Capture(domain));
            if (deviceModel is not null)
            {
                writer.Write(deviceModel);
            }
        }

        writer.Finish();
        return writer.Bytes;
    }

    /// <summary>
    /// Clears GTF_reading / GTF_writing in the saved grant entries: they say a backend on this host has the
    /// grant mapped, and no mapping travels with the image. Left set, the restored guest could never end
    /// access to a grant its old backend had mapped (gnttab_end_access refuses while they are set), and its
    /// frontends would leak every in-flight request's grants when they reconnect.
    /// </summary>
    private static void ForgetMappings(Span<byte> entries)
    {
        const int EntrySize = 8; // grant_entry_v1
        const ushort inUse = (ushort)(GrantFlags.Reading | GrantFlags.Writing);
        for (var at = 0; at + EntrySize <= entries.Length; at += EntrySize)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(entries[at..]);
            BinaryPrimitives.WriteUInt16LittleEndian(entries[at..], (ushort)(flags & ~inUse));
        }
    }

    /// <summary>Returns once every vCPU of a paused domain is off its pCPU: its state is ours from then on.</summary>
    internal static void WaitOffCpu(Hypervisor hypervisor, Domain domain)
    {
        foreach (var v in domain.Vcpus)
        {
            // A pause takes effect at the vCPU's next block boundary: its state is ours only once it is off its pCPU.
            if (!SpinWait.SpinUntil(() => !hypervisor.Scheduler.IsOnCpu(v.Sched), TimeSpan.FromSeconds(10)))
            {
                throw new InvalidOperationException($"domain {domain.Id}: vcpu {v.Id} did not leave its pCPU within 10 s of the pause");
            }
        }
    }

    /// <summary>The domain's sizes and life-cycle state as a record (also the migration stream's).</summary>
    internal static DomainRecord CaptureDomain(Domain domain) => new()
    {
        Name = domain.Name,
        Vcpus = domain.Spec.Vcpus,
        MaxVcpus = domain.Vcpus.Count,
        OnlineVcpus = domain.OnlineVcpus,
        TargetPages = domain.TargetPages,
        MaxPages = domain.Memory.MaxPages,
        PageLimit = domain.Memory.Limit,
        Weight = domain.Spec.Weight,
        Cap = domain.Spec.Cap,
        ShutdownReason = domain.State is DomainState.Shutdown or DomainState.Crashed ? (int)domain.ShutdownReason : -1,
    };

    /// <summary>The grant frames in use and their entries (also the migration stream's).</summary>
    internal static unsafe GrantTableRecord CaptureGrants(Domain domain)
    {
        var frames = domain.GrantFrames.CurrentFrames;
        var entries = new byte[frames * (int)PvLayout.PageSize];
        for (var f = 0; f < frames; f++)
        {
            new ReadOnlySpan<byte>(domain.Memory.Special(PvLayout.FirstGrantPage + f), (int)PvLayout.PageSize).CopyTo(entries.AsSpan(f * (int)PvLayout.PageSize));
        }

        ForgetMappings(entries);
        return new GrantTableRecord(frames, entries);
    }

    internal static EventChannelsRecord CaptureEvents(Domain domain)
    {
        var ports = new List<EventChannelEntry>();
        var ioreq = domain.Ioreq?.Ports ?? [];
        foreach (var p in domain.Events.BoundPorts())
        {
            // An HVM domain's ioreq ports belong to its device model's registration: the restoring toolstack
            // names a new device model, which gets fresh ones (IoreqServer.SetDeviceModel).
            if (!ioreq.Contains(p) && domain.Events.Get(p) is { } e)
            {
                ports.Add(new EventChannelEntry(p, (int)e.State, e.Vcpu, e.RemoteDomainId, e.RemotePort, e.State == EventChannelState.Virq ? e.Virq : -1));
            }
        }

        return new EventChannelsRecord(ports);
    }
}
