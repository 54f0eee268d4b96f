using Disagg.Abi.Boot;
using Disagg.Abi.Grants;
using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Console;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Core.Hvm;
using Disagg.Kernel.Core.Ioreq;
using Disagg.Kernel.Core.Ipc.Events;
using Disagg.Kernel.Core.Ipc.Grants;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Sched;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// A guest domain: its memory (P2M), vCPUs, event channels and grant table, and its life cycle
/// as Xen has it — created paused, running or blocked, paused by the control domain, shut down
/// by itself (with a reason), dying while destroyed. Every state change is reported through the
/// hypervisor, never polled for.
/// </summary>
public sealed unsafe partial class Domain : IUpcallSink
{
    private readonly Hypervisor _hypervisor;
    private readonly object _lock = new();
    private int _controlPauses = 1; // created paused
    private DomainState _shutdownState = DomainState.Running;

    internal Domain(Hypervisor hypervisor, int id, DomainSpec spec, P2m memory, long createdNs, ISbiConsole? sbiConsole = null)
    {
        _hypervisor = hypervisor;
        Id = id;
        Spec = spec;
        Memory = memory;
        CreatedNs = createdNs;
        GrantFrames = new GrantFrames();
        var frames = new byte*[PvLayout.MaxGrantFrames];
        for (var i = 0; i < frames.Length; i++)
        {
            frames[i] = memory.Special(PvLayout.FirstGrantPage + i);
        }

        Grants = new GrantTable(id, frames);
        GrantView = new GrantDomain(id, Grants, memory);
        var delivery = new TwoLevelEventDelivery(memory.Special(PvLayout.SharedInfoPage), spec.MaxVcpus, this);
        delivery.NewlyPending = WakePollers;
        var ioreqDelivery = spec.Hvm ? new IoreqEventDelivery(delivery) : null;
        Events = hypervisor.EventChannels.AddDomain(id, privileged: false, spec.MaxVcpus, ioreqDelivery ?? (IEventDelivery)delivery);
        Sched = hypervisor.Scheduler.AddDomain(id, spec.Weight, spec.Cap);
        var vcpus = new Vcpu[spec.MaxVcpus];
        Hart? first = null;
        for (var i = 0; i < vcpus.Length; i++)
        {
            var hart = new Hart(spec.Isa, memory) { Engine = hypervisor.Engine, TranslateAfter = hypervisor.TranslateAfter };
            if (first is null)
            {
                first = hart;
            }
            else
            {
                hart.ShareTimeBase(first);
            }

            var affinity = spec.Affinity.Count == 0 ? ulong.MaxValue : spec.Affinity[Math.Min(i, spec.Affinity.Count - 1)];
            var sched = hypervisor.Scheduler.AddVcpu(Sched, i, affinity & hypervisor.Scheduler.AllPcpus);
            var vcpu = new Vcpu(id, i, hart, sched, hypervisor.Scheduler, hypervisor.Timers, hypervisor.Platform);
            if (!spec.Hvm)
            {
                // PV: SEIP is the event upcall. (HVM: SEIP is the PLIC's, see HvmMachine.)
                var info = (VcpuInfo*)memory.Special(PvLayout.SharedInfoPage) + i;
                vcpu.UpcallPending = () => Volatile.Read(ref info->UpcallPending) != 0;
                hart.SetExternalInterruptLevel((byte*)info);
            }

            vcpus[i] = vcpu;
            hypervisor.Scheduler.Bind(sched, vcpu);
            if (i > 0)
            {
                hypervisor.Scheduler.Pause(sched); // SBI HSM: secondary harts start stopped
            }
        }

        Vcpus = vcpus;
        vcpus[0].Started = true;
        Hvm = spec.Hvm ? new HvmMachine(vcpus, memory) : null;
        if (ioreqDelivery != null)
        {
            Ioreq = new IoreqServer(hypervisor, this, ioreqDelivery);
            foreach (var v in vcpus)
            {
                v.Ioreq = Ioreq;
            }
        }
        TargetPages = spec.MemoryPages;
        OnlineVcpus = spec.MaxVcpus;
        for (var i = spec.Vcpus; i < spec.MaxVcpus; i++)
        {
            hypervisor.Scheduler.Pause(vcpus[i].Sched); // maxvcpus above vcpus: present but offline
        }

        OnlineVcpus = spec.Vcpus;
        EarlyConsole = new KernelMessageLog(64 * 1024) { Appended = () => hypervisor.OnConsoleWritten(id) };
        SbiConsole = sbiConsole ?? new LoggedSbiConsole(EarlyConsole, ConsoleInput);

        // Console and xenstore channels and grant refs 0/1 exist from creation, before any image,
        // so the toolstack can connect their backends while the domain is still paused.
        ConsolePort = hypervisor.EventChannels.AllocUnbound(Events, id, spec.ConsoleBackend);
        XenstorePort = hypervisor.EventChannels.AllocUnbound(Events, id, spec.XenstoreDomain);
        var entries = (GrantEntryV1*)memory.Special(PvLayout.FirstGrantPage);
        entries[ReservedGrantRefs.Console] = new GrantEntryV1 { DomId = (ushort)spec.ConsoleBackend, Frame = (uint)PvLayout.SpecialFrame(PvLayout.ConsolePage), Flags = (ushort)GrantFlags.PermitAccess };
        entries[ReservedGrantRefs.Xenstore] = new GrantEntryV1 { DomId = (ushort)spec.XenstoreDomain, Frame = (uint)PvLayout.SpecialFrame(PvLayout.XenstorePage), Flags = (ushort)GrantFlags.PermitAccess };
    }

    public int Id { get; }

    public string Name => Spec.Name;

    public DomainSpec Spec { get; }

    public P2m Memory { get; }

    public EventChannelTable Events { get; }

    public GrantTable Grants { get; }

    public GrantDomain GrantView { get; }

    internal GrantFrames GrantFrames { get; }

    public SchedDomain Sched { get; }

    public IReadOnlyList<Vcpu> Vcpus { get; }

    /// <summary>The emulated platform of an HVM domain (PLIC, MMIO, device-tree boot); null for PV.</summary>
    public HvmMachine? Hvm { get; }

    /// <summary>An HVM domain's ioreq server (its device model's MMIO requests); null for PV.</summary>
    public IoreqServer? Ioreq { get; }

    /// <summary>What the guest printed through the SBI console (DBCN, legacy putchar), for its console log.</summary>
    public KernelMessageLog EarlyConsole { get; }

    /// <summary>Input for the SBI console (legacy getchar, DBCN read), written by the control domain.</summary>
    public ConsoleInput ConsoleInput { get; } = new();

    /// <summary>Where the SBI console calls go: <see cref="EarlyConsole"/> and <see cref="ConsoleInput"/> unless the domain was created with another.</summary>
    public ISbiConsole SbiConsole { get; }

    public long CreatedNs { get; }

    public int ConsolePort { get; private set; }

    public int XenstorePort { get; private set; }

    public ShutdownReason ShutdownReason { get; private set; }

    /// <summary>Why the kernel crashed the domain (a device model's garbage answer or silence), in dmesg too; null otherwise.</summary>
    public string? CrashReason { get; private set; }

    /// <summary>Set by SCHEDOP_shutdown_code: the reason a later shutdown will report.</summary>
    public ShutdownReason? PendingShutdownCode { get; set; }

    public bool Dying { get; private set; }

    /// <summary>The balloon target the control domain set (mem-set), in pages; the guest's balloon driver follows it via xenstore.</summary>
    public long TargetPages { get; set; }

    /// <summary>vCPUs the control domain has online (vcpu-set); the others are held off their pCPUs.</summary>
    public int OnlineVcpus { get; private set; }

    /// <summary>vcpu-set: vCPUs 0..count-1 may run, the rest are held (an extra pause each).</summary>
    public void SetOnlineVcpus(int count)
    {
        lock (_lock)
        {
            for (var i = 0; i < Vcpus.Count; i++)
            {
                var wasOnline = i < OnlineVcpus;
                var online = i < count;
                if (wasOnline && !online)
                {
                    _hypervisor.Scheduler.Pause(Vcpus[i].Sched);
                }
                else if (!wasOnline && online)
                {
                    _hypervisor.Scheduler.Unpause(Vcpus[i].Sched);
                }
            }

            OnlineVcpus = count;
        }
    }

    public DomainState State
    {
        get
        {
            lock (_lock)
            {
                if (Dying)
                {
                    return DomainState.Dying;
                }

                if (_shutdownState != DomainState.Running)
                {
                    return _shutdownState;
                }

                if (_controlPauses > 0)
                {
                    return DomainState.Paused;
                }

                foreach (var v in Vcpus)
                {
                    if (v.Sched.State is VcpuRunState.Running or VcpuRunState.Runnable or VcpuRunState.Parked)
                    {
                        return DomainState.Running;
                    }
                }

                return DomainState.Blocked;
            }
        }
    }

    public long CpuTimeNs
    {
        get
        {
            long t = 0;
            foreach (var v in Vcpus)
            {
                t += _hypervisor.Scheduler.RunTimeNs(v.Sched);
            }

            return t;
        }
    }

    /// <summary>
    /// An event channel upcall. An HVM guest's SEIP belongs to its PLIC, and it has no callback interrupt for
    /// events yet (Xen's HVM callback via; not done), so its events stay pending in shared_info unseen.
    /// </summary>
    public void RaiseUpcall(int vcpu)
    {
        if (Hvm is null)
        {
            Vcpus[vcpu].RaiseInterrupt(Interrupts.SupervisorExternal);
        }
    }

    /// <summary>A port became pending: vCPUs in SCHEDOP_poll look again (Xen wakes pollers even for masked ports).</summary>
    private void WakePollers()
    {
        var vcpus = Vcpus;
        if (vcpus is null)
        {
            return;
        }

        foreach (var v in vcpus)
        {
            if (v.Polling)
            {
                v.Polling = false;
                v.Wake();
            }
        }
    }

    /// <summary>
    /// Loads a PV kernel image (and an optional ramdisk, placed page-aligned at the top of RAM),
    /// writes start_info, and puts vCPU 0 at the entry with a0 = 0, a1 = start_info (ARCHITECTURE §2).
    /// </summary>
    public void PrepareBoot(IReadOnlyList<ImageSegment> image, ulong entry, string commandLine, byte[]? ramdisk = null)
    {
        foreach (var segment in image)
        {
            Load(segment);
        }

        ulong ramdiskAddress = 0;
        if (ramdisk is { Length: > 0 })
        {
            var ramTop = PvLayout.RamBase + ((ulong)Memory.PopulatedPages * PvLayout.PageSize);
            ramdiskAddress = (ramTop - (ulong)ramdisk.Length) & ~(PvLayout.PageSize - 1);
            foreach (var segment in image)
            {
                if (segment.PhysicalAddress + segment.MemorySize > ramdiskAddress)
                {
                    throw new ArgumentException($"domain {Id}: a {ramdisk.Length}-byte ramdisk does not fit above the kernel in {Memory.PopulatedPages * 4} KiB of RAM");
                }
            }

            Load(new ImageSegment(ramdiskAddress, ramdisk, (ulong)ramdisk.Length));
        }

        StartInfoWriter.Write(
            (StartInfo*)Memory.Special(PvLayout.StartInfoPage),
            Spec.Isa == IsaWidth.Rv64,
            (ulong)Memory.PopulatedPages,
            (uint)ConsolePort,
            (uint)XenstorePort,
            commandLine,
            ramdiskAddress,
            (ulong)(ramdisk?.Length ?? 0));
        WriteTimeInfo();
        var boot = Vcpus[0].Hart;
        boot.Pc = entry;
        boot.Privilege = Privilege.Supervisor;
        boot.SetX(10, 0);
        boot.SetX(11, PvLayout.SpecialAddress(PvLayout.StartInfoPage));
    }

    /// <summary>When it last shut down (Stopwatch ticks; 0 never): a migration's downtime starts at a SHUTDOWN_suspend.</summary>
    public long ShutdownAt { get; private set; }

    /// <summary>Control domain pause (xl pause); nests.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            _controlPauses++;
        }

        foreach (var v in Vcpus)
        {
            _hypervisor.Scheduler.Pause(v.Sched);
        }

        _hypervisor.Report(this);
    }

    /// <summary>Control domain unpause; false if it was not paused.</summary>
    public bool Unpause()
    {
        lock (_lock)
        {
            if (_controlPauses == 0 || Dying)
            {
                return false;
            }

            _controlPauses--;
        }

        foreach (var v in Vcpus)
        {
            _hypervisor.Scheduler.Unpause(v.Sched);
        }

        _hypervisor.Report(this);
        return true;
    }

    /// <summary>The guest shut itself down (SRST, sched_op shutdown) or the control domain did: its vCPUs stop for good.</summary>
    public void Shutdown(ShutdownReason reason) => Shutdown(reason, why: null);

    /// <summary>As <see cref="Shutdown(ShutdownReason)"/>, with the kernel's reason for a crash it decided on (reported with the state change).</summary>
    public void Shutdown(ShutdownReason reason, string? why)
    {
        lock (_lock)
        {
            if (_shutdownState != DomainState.Running || Dying)
            {
                return;
            }

            ShutdownReason = reason;
            CrashReason = why;
            _shutdownState = reason == ShutdownReason.Crash ? DomainState.Crashed : DomainState.Shutdown;
            ShutdownAt = System.Diagnostics.Stopwatch.GetTimestamp();
        }

        foreach (var v in Vcpus)
        {
            _hypervisor.Scheduler.Pause(v.Sched);
        }

        _hypervisor.Report(this);
    }

    /// <summary>
    /// Undoes a SHUTDOWN_suspend (Xen's XEN_DOMCTL_resumedomain): the vCPUs that <see cref="Shutdown"/> stopped may
    /// run again; control pauses stay. False if the domain is not shut down for suspend. The caller sets the
    /// suspend hypercall's return value first (Persist/DomainResume).
    /// </summary>
    public bool ClearSuspend()
    {
        lock (_lock)
        {
            if (_shutdownState != DomainState.Shutdown || ShutdownReason != ShutdownReason.Suspend || Dying)
            {
                return false;
            }

            _shutdownState = DomainState.Running;
            PendingShutdownCode = null;
        }

        foreach (var v in Vcpus)
        {
            _hypervisor.Scheduler.Unpause(v.Sched);
        }

        _hypervisor.Report(this);
        return true;
    }

    /// <summary>Marks the domain dying and stops its vCPUs; the hypervisor frees it once no pCPU runs it.</summary>
    internal bool BeginDestroy()
    {
        lock (_lock)
        {
            if (Dying)
            {
                return false;
            }

            Dying = true;
        }

        foreach (var v in Vcpus)
        {
            _hypervisor.Scheduler.Remove(v.Sched);
            _hypervisor.Timers.Cancel(v.Timer);
        }

        return true;
    }

    internal void Load(ImageSegment segment)
    {
        var end = segment.PhysicalAddress + segment.MemorySize;
        if (segment.MemorySize < (ulong)segment.Data.Length || end < segment.PhysicalAddress)
        {
            throw new ArgumentException($"domain {Id}: image segment at 0x{segment.PhysicalAddress:x} is malformed");
        }

        for (var a = segment.PhysicalAddress & ~0xFFFUL; a < end; a += 4096)
        {
            var page = Memory.Frame(a >> 12, forWrite: true);
            if (page == null || PvLayout.IsSpecialFrame(a >> 12))
            {
                throw new ArgumentException($"domain {Id}: image segment 0x{segment.PhysicalAddress:x}-0x{end:x} does not fit its {Memory.PopulatedPages * 4} KiB of RAM at 0x{PvLayout.RamBase:x}");
            }
        }

        var hart = Vcpus[0].Hart;
        hart.TryWritePhysical(segment.PhysicalAddress, segment.Data);
        var zeros = new byte[4096];
        for (var a = segment.PhysicalAddress + (ulong)segment.Data.Length; a < end;)
        {
            var n = (int)Math.Min((ulong)zeros.Length, end - a);
            hart.TryWritePhysical(a, zeros.AsSpan(0, n));
            a += (ulong)n;
        }
    }

    /// <summary>vcpu_time_info: Xen system time (ns) from the time CSR at 10 MHz: ns = (ticks &lt;&lt; 7) * mul &gt;&gt; 32.</summary>
    private void WriteTimeInfo()
    {
        for (var i = 0; i < Vcpus.Count; i++)
        {
            var info = (VcpuInfo*)Memory.Special(PvLayout.SharedInfoPage) + i;
            info->Time.Version = 2;
            info->Time.TscTimestamp = 0;
            info->Time.SystemTime = 0;
            info->Time.TscShift = 7;
            info->Time.TscToSystemMul = 3_355_443_200; // 100 ns per tick / 128, as a 32.32 fraction
        }
    }
}
