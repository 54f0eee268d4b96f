using Disagg.Abi.Boot;
using Disagg.Abi.Events;
using Disagg.Abi.Hypercalls;
using Disagg.DomainImage;
using Disagg.Kernel.Core.Console;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Persist;

/// <summary>
/// Rebuilds a domain from an image (docs/SAVE-RESTORE.md). Reading checks every record, and the checks
/// here check what the image asks of this host, all before the domain is created: a refused image leaves
/// nothing behind. The new domain is created paused, with a new id; the caller unpauses it.
/// </summary>
public static class DomainRestore
{
    private const int PageSize = (int)PvLayout.PageSize;

    /// <summary>What this kernel restores: RV32 and RV64 guests (it is an rv64 host), frames in a PV domain's layout.</summary>
    public static ImageHost Host { get; } = new() { WidestGuest = ImageIsa.Rv64, FramesFit = FramesFit };

    /// <summary>Reads and checks an image for this host; throws <see cref="DomainImageException"/> naming the record at fault.</summary>
    public static Disagg.DomainImage.DomainImage Read(Stream stream) => DomainImageReader.Read(stream, Host);

    /// <summary>What <paramref name="hypervisor"/> restores: an rv32 host (--arch rv32) refuses rv64 images at their header.</summary>
    public static ImageHost HostOf(Hypervisor hypervisor) => hypervisor.HostIsa == IsaWidth.Rv32 ? Host with { WidestGuest = ImageIsa.Rv32 } : Host;

    /// <summary>Reads and checks an image for <paramref name="hypervisor"/>'s host.</summary>
    public static Disagg.DomainImage.DomainImage Read(Stream stream, Hypervisor hypervisor) => DomainImageReader.Read(stream, HostOf(hypervisor));

    /// <param name="name">The new domain's name; the saved one by default.</param>
    /// <param name="consoleBackend">The domain serving its console ring on this host.</param>
    /// <param name="xenstoreDomain">The domain serving its xenstore ring on this host.</param>
    /// <param name="sbiConsole">Where its SBI console goes; by default its early console log.</param>
    public static unsafe Domain Rebuild(Hypervisor hypervisor, Disagg.DomainImage.DomainImage image, string? name = null, int consoleBackend = 0, int xenstoreDomain = 0, ISbiConsole? sbiConsole = null)
    {
        var d = image.Domain;
        var wanted = Check(hypervisor, image);
        var populated = 0L;
        foreach (var w in wanted)
        {
            populated += w ? 1 : 0;
        }

        var domain = hypervisor.CreateDomain(new DomainSpec
        {
            Name = name ?? d.Name,
            Isa = image.Header.Isa == ImageIsa.Rv32 ? IsaWidth.Rv32 : IsaWidth.Rv64,
            Vcpus = d.Vcpus,
            MaxVcpus = d.MaxVcpus,
            MemoryPages = Math.Max(populated, 1),
            MaxMemoryPages = d.MaxPages,
            Weight = d.Weight,
            Cap = d.Cap,
            ConsoleBackend = consoleBackend,
            XenstoreDomain = xenstoreDomain,
            Hvm = image.HvmPlatform is not null,
        }, sbiConsole);
        try
        {
            RebuildMemory(hypervisor, domain, image, wanted);
            RestoreState(hypervisor, domain, image);
        }
        catch
        {
            hypervisor.DestroyDomain(domain);
            throw;
        }

        hypervisor.Log.WriteKernel($"restored domain {domain.Id} '{domain.Name}' from an {image.Header.Isa} image: {populated} pages, {d.MaxVcpus} vCPU(s)");
        return domain;
    }

    /// <summary>
    /// The saved start_info names the old domain's console and xenstore ports; this domain's were bound at its
    /// creation. Xen's restore rewrites the same fields (store_evtchn, console.domU.evtchn) for the guest to
    /// re-read when it resumes; the frames are the same in every PV domain's layout.
    /// </summary>
    private static unsafe void Rehome(Domain domain)
    {
        var info = (StartInfo*)domain.Memory.Special(PvLayout.StartInfoPage);
        info->StoreEvtchn = (uint)domain.XenstorePort;
        info->ConsoleEvtchn = (uint)domain.ConsolePort;
        info->StoreMfn = PvLayout.SpecialFrame(PvLayout.XenstorePage);
        info->ConsoleMfn = PvLayout.SpecialFrame(PvLayout.ConsolePage);
    }

    /// <summary>
    /// The event upcall is raised on evtchn_upcall_pending's 0 -> 1 edge and only lowered by its level
    /// (Hart.SetExternalInterruptLevel). Events that reached a suspended guest (its backends answering what
    /// it had in flight) left the byte at 1 in the image: a new hart never saw that edge, and no later event
    /// makes one, so its upcalls would stop for good. Raise the line wherever the byte says pending.
    /// </summary>
    private static unsafe void RaisePendingUpcalls(Domain domain)
    {
        if (domain.Spec.Hvm)
        {
            return; // HVM: SEIP is the PLIC's
        }

        var infos = (VcpuInfo*)domain.Memory.Special(PvLayout.SharedInfoPage);
        foreach (var v in domain.Vcpus)
        {
            if (Volatile.Read(ref infos[v.Id].UpcallPending) != 0)
            {
                v.RaiseInterrupt(Interrupts.SupervisorExternal);
            }
        }
    }

    /// <summary>
    /// Everything but memory, into a created domain whose memory is in place (a restore, or a migration
    /// target at the stop): grant frames, ports at their numbers, vCPUs, online count, balloon, shutdown.
    /// </summary>
    internal static void RestoreState(Hypervisor hypervisor, Domain domain, Disagg.DomainImage.DomainImage image)
    {
        var d = image.Domain;
        Rehome(domain);
        RebuildGrants(domain, image.GrantTable);
        foreach (var p in image.EventChannels.Ports)
        {
            if (domain.Events.Get(p.Port) is null
                && !hypervisor.EventChannels.RestorePort(domain.Events, p.Port, (EventChannelState)p.State, p.Vcpu, p.RemoteDomain, p.Virq))
            {
                throw new InvalidOperationException($"domain {domain.Id}: port {p.Port} passed the image checks but could not be bound");
            }
        }

        RebuildVcpus(hypervisor, domain, image);
        RaisePendingUpcalls(domain);
        if (image.HvmPlatform is { } platform)
        {
            // The PLIC drives SEIP: after the harts, whose restore cleared it.
            HvmSnapshot.Restore(domain, platform, PlatformIndex(image));
        }

        domain.SetOnlineVcpus(d.OnlineVcpus);
        domain.TargetPages = d.TargetPages;
        domain.Memory.Limit = d.PageLimit;

        // A guest that suspended itself (SHUTDOWN_suspend) is resumed by its restore; any other shutdown stays.
        if (d.ShutdownReason >= 0 && d.ShutdownReason != (int)ShutdownReason.Suspend)
        {
            domain.Shutdown((ShutdownReason)d.ShutdownReason);
        }
    }

    private static bool FramesFit(DomainRecord d, ulong first, long count)
    {
        var special = first - PvLayout.SpecialFirstFrame;
        var ram = first - PvLayout.RamFirstFrame;
        return (special < PvLayout.FirstGrantPage && (ulong)count <= PvLayout.FirstGrantPage - special)
            || (ram < (ulong)d.MaxPages && (ulong)count <= (ulong)d.MaxPages - ram);
    }

    /// <summary>What the image asks of this host, checked before anything is created; returns the RAM frames to populate.</summary>
    internal static bool[] Check(Hypervisor hypervisor, Disagg.DomainImage.DomainImage image)
    {
        var d = image.Domain;

        // maxmem sizes the P2M's arrays and its backing: an image asking for more than the whole host has
        // would make this host allocate for it before the memory budget could say no.
        if (d.MaxPages > hypervisor.Budget.TotalPages)
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.Domain, 1, $"maxmem {d.MaxPages} pages, the host has {hypervisor.Budget.TotalPages}");
        }

        var wanted = new bool[d.MaxPages];
        foreach (var m in image.Memory)
        {
            Mark(wanted, m.FirstFrame, m.PageCount);
        }

        foreach (var z in image.ZeroPages)
        {
            Mark(wanted, z.FirstFrame, z.Count);
        }

        var eventsIndex = 2 + image.Vcpus.Count + image.Memory.Count + image.ZeroPages.Count;
        var seen = new HashSet<int>();
        var virqs = new HashSet<int>();
        foreach (var p in image.EventChannels.Ports)
        {
            var state = (EventChannelState)p.State;
            var bad = !seen.Add(p.Port) || p.Vcpu >= d.MaxVcpus
                || state is not (EventChannelState.Unbound or EventChannelState.Interdomain or EventChannelState.Virq or EventChannelState.Ipi)
                || (state == EventChannelState.Virq && (p.Virq < 0 || p.Virq >= (int)Virq.Count || !virqs.Add(p.Virq)));
            if (bad)
            {
                throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.EventChannels, eventsIndex, $"port {p.Port} ({state}, vcpu {p.Vcpu}, virq {p.Virq}) cannot be bound");
            }
        }

        if (image.GrantTable.Frames > PvLayout.MaxGrantFrames)
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.GrantTable, eventsIndex + 1, $"{image.GrantTable.Frames} grant frames, at most {PvLayout.MaxGrantFrames}");
        }

        if (image.HvmPlatform is { } hvm && (hvm.Sources != VirtLayout.PlicSources || hvm.Contexts != d.MaxVcpus))
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.HvmPlatform, eventsIndex + 2,
                $"a PLIC of {hvm.Sources} sources and {hvm.Contexts} contexts; this host's virt machine has {VirtLayout.PlicSources} sources and one context per vCPU ({d.MaxVcpus})");
        }

        return wanted;
    }

    private static int PlatformIndex(Disagg.DomainImage.DomainImage image) => 4 + image.Vcpus.Count + image.Memory.Count + image.ZeroPages.Count;

    private static void Mark(bool[] wanted, ulong first, long count)
    {
        if (first >= PvLayout.RamFirstFrame)
        {
            wanted.AsSpan((int)(first - PvLayout.RamFirstFrame), (int)count).Fill(true);
        }
    }

    private static unsafe void RebuildMemory(Hypervisor hypervisor, Domain domain, Disagg.DomainImage.DomainImage image, bool[] wanted)
    {
        var memory = domain.Memory;
        for (var i = 0; i < wanted.Length; i++)
        {
            if (!wanted[i])
            {
                memory.Depopulate(PvLayout.RamFirstFrame + (ulong)i); // false for a frame never populated: nothing to do
            }
        }

        for (var i = 0; i < wanted.Length; i++)
        {
            if (wanted[i] && !memory.Populate(PvLayout.RamFirstFrame + (ulong)i))
            {
                throw new MemoryBudgetExceededException(domain.Id, 1, hypervisor.Budget.FreePages, hypervisor.Budget.TotalPages);
            }
        }

        var scratch = new byte[MemoryRecord.MaxPages * PageSize];
        foreach (var run in image.Memory)
        {
            var bytes = scratch.AsSpan(0, run.PageCount * PageSize);
            if (!PageCompression.TryDecompress(run.Compressed, bytes))
            {
                throw new InvalidOperationException($"a memory run at 0x{run.FirstFrame:x} passed the image checks but does not decompress");
            }

            for (var p = 0; p < run.PageCount; p++)
            {
                bytes.Slice(p * PageSize, PageSize).CopyTo(new Span<byte>(memory.Frame(run.FirstFrame + (ulong)p, forWrite: true), PageSize));
            }
        }

        foreach (var z in image.ZeroPages)
        {
            for (var p = 0L; p < z.Count; p++)
            {
                new Span<byte>(memory.Frame(z.FirstFrame + (ulong)p, forWrite: true), PageSize).Clear(); // special pages were written at creation
            }
        }
    }

    private static unsafe void RebuildGrants(Domain domain, GrantTableRecord grants)
    {
        domain.GrantFrames.TryGrow(grants.Frames);
        for (var f = 0; f < PvLayout.MaxGrantFrames; f++)
        {
            var page = new Span<byte>(domain.Memory.Special(PvLayout.FirstGrantPage + f), PageSize);
            if (f < grants.Frames)
            {
                grants.Entries.AsSpan(f * PageSize, PageSize).CopyTo(page);
            }
            else
            {
                page.Clear();
            }
        }
    }

    private static void RebuildVcpus(Hypervisor hypervisor, Domain domain, Disagg.DomainImage.DomainImage image)
    {
        var isa = domain.Spec.Isa;
        foreach (var v in domain.Vcpus)
        {
            var saved = image.Vcpus[v.Id];
            v.Hart.Restore(VcpuSnapshot.ToHartState(saved, isa)); // drops the LR reservation and every cached translation
            if (v.Id > 0)
            {
                v.Hart.ShareTimeBase(domain.Vcpus[0].Hart); // one time base per domain, as at creation
            }

            if (saved.Started != v.Started)
            {
                // SBI HSM state: the domain was created with only vCPU 0 started.
                v.Started = saved.Started;
                if (saved.Started)
                {
                    hypervisor.Scheduler.Unpause(v.Sched);
                }
                else
                {
                    hypervisor.Scheduler.Pause(v.Sched);
                }
            }
        }
    }
}
