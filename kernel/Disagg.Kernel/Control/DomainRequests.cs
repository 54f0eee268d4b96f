using Disagg.Abi.Hypercalls;
using Disagg.Control.Messages;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Sched;
using Disagg.Kernel.Cpu;
using Disagg.Kernel.Loader;

namespace Disagg.Kernel.Control;

/// <summary>What each control request does to the hypervisor. Failures throw <see cref="DomainRequestException"/>.</summary>
internal static class DomainRequests
{
    public static string StateLetter(DomainState state) => state switch
    {
        DomainState.Running => "r",
        DomainState.Blocked => "b",
        DomainState.Paused => "p",
        DomainState.Shutdown => "s",
        DomainState.Crashed => "c",
        _ => "d",
    };

    public static HostInfo HostInfo(Hypervisor hv) => new(
        hv.Scheduler.PcpuCount,
        hv.Budget.TotalPages * 4,
        hv.Budget.FreePages * 4,
        KernelVersion.Value,
        $"{Core.Hypercalls.XenVersionHypercall.Major}.{Core.Hypercalls.XenVersionHypercall.Minor}",
        MonotonicClock.Instance.NowNs - hv.StartedNs);

    /// <summary>GetHostCounters: what a leak check compares before and after.</summary>
    public static HostCounters Counters(Hypervisor hv)
    {
        int maps = 0, pages = 0, services = 0;
        foreach (var service in hv.Services.Values)
        {
            services++;
            maps += service.MapCount;
            pages += service.SharedPageCount;
        }

        return new HostCounters(hv.Domains.Snapshot().Count, services, hv.EventChannels.BoundPortCount(), maps, pages, hv.Budget.FreePages * 4, hv.Budget.TotalPages * 4);
    }

    public static DomainList List(Hypervisor hv)
    {
        var rows = new List<DomainSummary>();
        foreach (var d in hv.Domains.Snapshot())
        {
            rows.Add(new DomainSummary(
                d.Id,
                d.Name,
                StateLetter(d.State),
                (int)d.ShutdownReason,
                d.Memory.PopulatedPages * 4,
                d.Memory.Limit * 4,
                d.TargetPages * 4,
                d.OnlineVcpus,
                d.Vcpus.Count,
                d.CpuTimeNs,
                IsService: false,
                d.ConsolePort,
                d.XenstorePort,
                Core.Domains.PvLayout.SpecialFrame(Core.Domains.PvLayout.ConsolePage),
                Core.Domains.PvLayout.SpecialFrame(Core.Domains.PvLayout.XenstorePage),
                d.Spec.ConsoleBackend,
                d.Spec.XenstoreDomain,
                d.State == Core.Domains.DomainState.Crashed ? d.CrashReason ?? "" : ""));
        }

        return new DomainList(rows);
    }

    public static MessageLogChunk ReadLog(Hypervisor hv, ReadMessageLog r)
    {
        if (r.ClearUpTo > 0)
        {
            hv.Log.Clear(r.ClearUpTo);
        }

        var buffer = new byte[Math.Clamp(r.MaxBytes, 0, 1 << 20)];
        var n = hv.Log.Read(r.Offset, buffer, out var next, out var missed);
        return new MessageLogChunk(buffer[..n], next, missed);
    }

    public static ConsoleChunk ReadConsole(Hypervisor hv, ReadConsole r)
    {
        if (hv.Domains[r.DomainId] is not { } domain)
        {
            throw new DomainRequestException(XenErrno.ESRCH, $"console of domain {r.DomainId}: no such domain");
        }

        var buffer = new byte[Math.Clamp(r.MaxBytes, 0, 1 << 20)];
        var n = domain.EarlyConsole.Read(r.Offset, buffer, out var next, out var missed);
        return new ConsoleChunk(r.DomainId, buffer[..n], next, missed);
    }

    public static ConsoleInputAccepted WriteConsoleInput(Hypervisor hv, WriteConsoleInput w)
    {
        if (hv.Domains[w.DomainId] is not { } domain)
        {
            throw new DomainRequestException(XenErrno.ESRCH, $"console input for domain {w.DomainId}: no such domain");
        }

        return new ConsoleInputAccepted(domain.ConsoleInput.Write(w.Data ?? []));
    }

    public static DomainCreated Create(Hypervisor hv, CreateDomain c)
    {
        if (hv.Domains.Snapshot().Any(d => d.Name == c.Name))
        {
            throw new DomainRequestException(XenErrno.EEXIST, $"domain '{c.Name}' already exists");
        }

        if (c.Weight is < 1 or > 65535 || c.Cap < 0)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain '{c.Name}': weight {c.Weight} (1..65535), cap {c.Cap} (>= 0)");
        }

        try
        {
            var d = hv.CreateDomain(new DomainSpec
            {
                Name = c.Name,
                Isa = c.Isa == GuestIsa.Rv32 ? IsaWidth.Rv32 : IsaWidth.Rv64,
                Vcpus = c.Vcpus,
                MaxVcpus = c.MaxVcpus,
                MemoryPages = c.MemoryKiB / 4,
                MaxMemoryPages = c.MaxMemoryKiB / 4,
                Weight = c.Weight,
                Cap = c.Cap,
                Affinity = c.Affinity,
                ConsoleBackend = c.ConsoleBackendDomain,
                XenstoreDomain = c.XenstoreDomain,
                Hvm = c.Hvm,
            });
            return new DomainCreated(d.Id, d.ConsolePort, d.XenstorePort, PvLayout.SpecialFrame(PvLayout.ConsolePage), PvLayout.SpecialFrame(PvLayout.XenstorePage));
        }
        catch (MemoryBudgetExceededException e)
        {
            throw new DomainRequestException(XenErrno.ENOMEM, $"domain '{c.Name}': {e.Shortfall()}");
        }
        catch (ArgumentException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, e.Message);
        }
    }

    public static OkReply Load(Hypervisor hv, LoadKernel l)
    {
        var d = Find(hv, l.DomainId);
        if (d.State != DomainState.Paused)
        {
            throw new DomainRequestException(XenErrno.EBUSY, $"domain {d.Id}: a kernel is loaded into a paused, new domain only");
        }

        if (d.Hvm is not null)
        {
            LoadHvm(hv, d, l);
            return new OkReply();
        }

        if (LinuxImage.HasMagic(l.Kernel))
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: a Linux Image boots in an HVM domain (type hvm), not a PV one");
        }

        if (!ElfImage.TryParse(l.Kernel, out var elf, out var reason))
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: kernel is not a usable RISC-V ELF: {reason}");
        }

        if (elf!.Is64 != (d.Spec.Isa == IsaWidth.Rv64))
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: an RV{(elf.Is64 ? 64 : 32)} kernel cannot boot in an RV{(d.Spec.Isa == IsaWidth.Rv64 ? 64 : 32)} domain");
        }

        var segments = elf.LoadableSegments(l.Kernel);
        try
        {
            d.PrepareBoot(segments, elf.Entry, l.CommandLine, l.Ramdisk);
        }
        catch (ArgumentException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, e.Message);
        }

        return new OkReply();
    }

    /// <summary>An HVM domain boots an unmodified kernel with a device tree: a Linux RISC-V Image, an ELF or a raw binary.</summary>
    private static void LoadHvm(Hypervisor hv, Domain d, LoadKernel l)
    {
        if (d.Spec.Isa != IsaWidth.Rv64)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: HVM domains are RV64 for now");
        }

        if (!HvmKernelLoader.TryRead(l.Kernel, out var kernel, out var reason))
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: kernel refused: {reason}");
        }

        try
        {
            d.Hvm!.PrepareBoot(d, kernel!, l.CommandLine, l.Ramdisk);
        }
        catch (HvmBootException e)
        {
            throw new DomainRequestException(XenErrno.EINVAL, e.Message);
        }

        var at = d.Hvm.BootLayout!;
        hv.Log.WriteKernel($"domain {d.Id}: HVM boot: {kernel!.Format} 0x{at.KernelStart:x}-0x{at.KernelEnd:x} entered at 0x{kernel.Entry:x}, initrd 0x{at.InitrdStart:x}-0x{at.InitrdEnd:x}, device tree at 0x{at.DeviceTree:x} ({at.DeviceTreeBytes} bytes)");
    }

    public static OkReply Command(Hypervisor hv, DomainCommand c)
    {
        var d = Find(hv, c.DomainId);
        switch (c.Operation)
        {
            case DomainOperation.Pause:
                d.Pause();
                break;
            case DomainOperation.Unpause:
                if (!d.Unpause())
                {
                    throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id} is not paused");
                }

                break;
            case DomainOperation.Destroy:
                hv.DestroyDomain(d);
                break;
            case DomainOperation.Shutdown:
                if ((uint)c.Reason > (uint)ShutdownReason.SoftReset)
                {
                    throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: shutdown reason {c.Reason}");
                }

                d.Shutdown((ShutdownReason)c.Reason);
                break;
            case DomainOperation.EnableDirtyLog:
                Core.Migration.DirtyLog.Enable(d);
                break;
            case DomainOperation.DisableDirtyLog:
                Core.Migration.DirtyLog.Disable(d);
                break;
            case DomainOperation.ResumeSuspended:
                if (!Disagg.Kernel.Core.Persist.DomainResume.Resume(hv, d))
                {
                    throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id} is {d.State}, not suspended");
                }

                break;
            default:
                throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: unknown operation {c.Operation}");
        }

        return new OkReply();
    }

    public static OkReply SetMemory(Hypervisor hv, SetMemory m)
    {
        var d = Find(hv, m.DomainId);
        if (m.MaxKiB is { } max)
        {
            if (max < 0 || max / 4 > d.Memory.MaxPages)
            {
                throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: maxmem {max} KiB is beyond the {d.Memory.MaxPages * 4} KiB it was created with");
            }

            d.Memory.Limit = max / 4;
        }

        if (m.TargetKiB is { } target)
        {
            if (target < 0 || target / 4 > d.Memory.Limit)
            {
                throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: target {target} KiB is above its maxmem {d.Memory.Limit * 4} KiB");
            }

            d.TargetPages = target / 4;
        }

        return new OkReply();
    }

    public static OkReply SetSchedCredit(Hypervisor hv, SetSchedCredit s)
    {
        var d = Find(hv, s.DomainId);
        if (s.Weight is < 1 or > 65535 || s.Cap < 0 || s.Cap > 100 * d.Vcpus.Count)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: weight {s.Weight} (1..65535), cap {s.Cap} (0..{100 * d.Vcpus.Count})");
        }

        hv.Scheduler.SetParams(d.Sched, s.Weight, s.Cap);
        return new OkReply();
    }

    public static OkReply SetAffinity(Hypervisor hv, SetVcpuAffinity a)
    {
        var d = Find(hv, a.DomainId);
        var mask = a.Mask & hv.Scheduler.AllPcpus;
        if (mask == 0 || a.Vcpu < -1 || a.Vcpu >= d.Vcpus.Count)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: vcpu {a.Vcpu}, mask 0x{a.Mask:x} names no pCPU of {hv.Scheduler.PcpuCount}");
        }

        foreach (var v in d.Vcpus.Where(v => a.Vcpu == -1 || v.Id == a.Vcpu))
        {
            hv.Scheduler.SetAffinity(v.Sched, mask);
        }

        return new OkReply();
    }

    public static OkReply SetVcpusOnline(Hypervisor hv, SetVcpusOnline o)
    {
        var d = Find(hv, o.DomainId);
        if (o.Count < 1 || o.Count > d.Vcpus.Count)
        {
            throw new DomainRequestException(XenErrno.EINVAL, $"domain {d.Id}: {o.Count} vCPUs online (1..{d.Vcpus.Count})");
        }

        d.SetOnlineVcpus(o.Count);
        return new OkReply();
    }

    public static VcpuList ListVcpus(Hypervisor hv, ListVcpus l)
    {
        var domains = l.DomainId < 0 ? hv.Domains.Snapshot() : [Find(hv, l.DomainId)];
        var rows = new List<VcpuSummary>();
        foreach (var d in domains)
        {
            foreach (var v in d.Vcpus)
            {
                var state = v.Sched.State switch
                {
                    VcpuRunState.Running => "r",
                    VcpuRunState.Runnable or VcpuRunState.Parked => "-",
                    VcpuRunState.Blocked => "b",
                    _ => "p",
                };
                rows.Add(new VcpuSummary(d.Id, v.Id, v.Sched.Pcpu, state, hv.Scheduler.RunTimeNs(v.Sched), v.Sched.Affinity, v.Id < d.OnlineVcpus && v.Started));
            }
        }

        return new VcpuList(rows);
    }

    private static Domain Find(Hypervisor hv, int id) =>
        hv.Domains[id] ?? throw new DomainRequestException(XenErrno.ESRCH, $"no domain {id}");
}
