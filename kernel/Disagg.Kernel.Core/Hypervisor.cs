using Disagg.Abi.Events;
using Disagg.Kernel.Core.Console;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Execution;
using Disagg.Kernel.Core.Ipc.Events;
using Disagg.Kernel.Core.Ipc.Grants;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Platform;
using Disagg.Kernel.Core.Sched;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core;

/// <summary>
/// The hypervisor's root: the host memory budget, the domains, the scheduler and the pCPU
/// threads that run vCPUs, timers, event channels, grant copy and the message log. The kernel
/// process builds one and drives it from its control socket.
/// </summary>
public sealed class Hypervisor : IDisposable
{
    private readonly Func<long, IRamBacking> _ramBacking;
    private readonly PcpuSet _pcpus = new();

    /// <summary>How every vCPU's hart executes guest code (the kernel's --engine option).</summary>
    public HartEngine Engine { get; init; }

    /// <summary>
    /// The widest guest this host runs (the kernel's --arch option): an rv32 host offers RV32 harts only and
    /// refuses an RV64 guest on create, restore and incoming migration, before any memory is given to it.
    /// </summary>
    public IsaWidth HostIsa { get; init; } = IsaWidth.Rv64;

    /// <summary>With the translator: interpreted executions of a block start before it is translated.</summary>
    public int TranslateAfter { get; init; } = Hart.DefaultTranslateAfter;

    public Hypervisor(int pcpus, long memoryBytes, Func<long, IRamBacking>? ramBacking = null, CreditSchedulerOptions? schedOptions = null)
    {
        _ramBacking = ramBacking ?? (pages => new MemfdRamBacking("disagg-guest-ram", pages));
        Budget = new HostMemoryBudget(memoryBytes);
        Scheduler = new CreditScheduler(pcpus, MonotonicClock.Instance, _pcpus, schedOptions);
        Timers = new TimerQueue(MonotonicClock.Instance);
        Log = new KernelMessageLog() { Appended = () => ConsoleWritten?.Invoke(-1) };
        GrantCopier = new GrantCopier(id => Domains[id] is { } d ? d.GrantView
            : Services.TryGetValue(id, out var service) ? service.GrantView : null);
        Platform = new DomainPlatform(this);
        StartedNs = MonotonicClock.Instance.NowNs;
        _pcpus.Start(Scheduler);
        Log.WriteKernel($"disagg: {pcpus} pCPUs, {memoryBytes >> 20} MiB for guests");
    }

    public HostMemoryBudget Budget { get; }

    public DomainTable<Domain> Domains { get; } = new();

    public CreditScheduler Scheduler { get; }

    public IReadOnlyList<Pcpu> Pcpus => _pcpus.Pcpus;

    public TimerQueue Timers { get; }

    public EventChannels EventChannels { get; } = new();

    public GrantCopier GrantCopier { get; }

    public KernelMessageLog Log { get; }

    public IVcpuPlatform Platform { get; }

    public long StartedNs { get; }

    /// <summary>Service domains' grant views (their copy buffers), registered when they connect.</summary>

    /// <summary>The one thread that drains every service's send ring when its kick doorbell rings.</summary>
    public Disagg.Interop.EpollReactor ServiceReactor => _serviceReactor.Value;

    private readonly Lazy<Disagg.Interop.EpollReactor> _serviceReactor = new(() => new Disagg.Interop.EpollReactor("service-sends"));

    /// <summary>Service domains with an open channel, by domain id.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<int, ServiceDomain> Services { get; } = new();

    /// <summary>
    /// Opens a service domain's channel. A domain has one channel at a time: a new one takes over from an
    /// older one, whose process has usually just died (a restarted service reconnects before the kernel has
    /// noticed the old connection drop); the old channel's ports and maps are released first.
    /// </summary>
    public ServiceDomain OpenService(int domainId, int bufferPages, int grantFrames = 0)
    {
        lock (Services)
        {
            if (Services.TryGetValue(domainId, out var old))
            {
                CloseService(old);
                Log.WriteKernel($"service domain {domainId}: a new connection took over the channel");
            }

            var service = new ServiceDomain(this, domainId, bufferPages, grantFrames);
            Services[domainId] = service;
            Log.WriteKernel($"service domain {domainId}: channel open ({bufferPages} buffer pages{(grantFrames > 0 ? $", {grantFrames} grant frames" : "")})");
            return service;
        }
    }

    /// <summary>Closes a service domain's channel and releases everything it held.</summary>
    public void CloseService(ServiceDomain service)
    {
        // Under the same lock as OpenService: a new channel for this domain waits until the old one's ports
        // are really gone (its event table is removed in Dispose), so a quick reconnect never collides.
        lock (Services)
        {
            if (Services.TryRemove(new KeyValuePair<int, ServiceDomain>(service.Id, service)))
            {
                // As a destroyed domain: copies from its grants finish, maps of them are forgotten, then its memory goes.
                service.GrantView.Close();
                foreach (var other in Services.Values)
                {
                    other.Maps.ForgetDomain(service);
                }

                service.Dispose();
                Log.WriteKernel($"service domain {service.Id}: channel closed ({service.RefusedSends} ring entries refused)");
            }
        }
    }

    /// <summary>Every domain state change, pushed as it happens (the control connection forwards them).</summary>
    public event Action<DomainStateChange>? StateChanged;

    /// <summary>
    /// New bytes in a domain's SBI console (its id) or in the message log (-1), raised on the writer's thread
    /// after each append; control connections that watch consoles turn it into one notice per read.
    /// </summary>
    public event Action<int>? ConsoleWritten;

    internal void OnConsoleWritten(int domainId) => ConsoleWritten?.Invoke(domainId);

    /// <summary>Creates a paused domain with its memory reserved; throws <see cref="MemoryBudgetExceededException"/> past the budget.</summary>
    /// <param name="sbiConsole">Where its SBI console goes; by default its early console log and queued input.</param>
    public Domain CreateDomain(DomainSpec spec, ISbiConsole? sbiConsole = null)
    {
        if (spec.Vcpus < 1 || spec.MaxVcpus < spec.Vcpus || spec.MaxVcpus > Abi.Boot.SharedInfo.LegacyMaxVcpus)
        {
            throw new ArgumentException($"domain '{spec.Name}': {spec.Vcpus} vCPUs of at most {spec.MaxVcpus} (1..{Abi.Boot.SharedInfo.LegacyMaxVcpus})");
        }

        if (spec.Isa == IsaWidth.Rv64 && HostIsa == IsaWidth.Rv32)
        {
            throw new ArgumentException($"domain '{spec.Name}': an rv64 guest cannot run on this rv32 host");
        }

        if (spec.MemoryPages < 1 || spec.MaxMemoryPages < spec.MemoryPages)
        {
            throw new ArgumentException($"domain '{spec.Name}': memory {spec.MemoryPages} pages, maxmem {spec.MaxMemoryPages}");
        }

        Domain? created = null;
        var id = Domains.Add(newId =>
        {
            var p2m = new P2m(newId, _ramBacking(spec.MaxMemoryPages), _ramBacking(PvLayout.SpecialPages), spec.MemoryPages, Budget);
            try
            {
                created = new Domain(this, newId, spec, p2m, MonotonicClock.Instance.NowNs, sbiConsole);
            }
            catch
            {
                p2m.Dispose();
                throw;
            }

            return created;
        });
        if (id < 0)
        {
            throw new InvalidOperationException($"domain '{spec.Name}': no free domain id");
        }

        Log.WriteKernel($"created domain {id} '{spec.Name}': {spec.MemoryPages * 4} KiB, {spec.Vcpus} vCPU(s)");
        Report(created!);
        return created!;
    }

    /// <summary>Destroys a domain: stops its vCPUs, waits until no pCPU runs them, frees its memory and ports.</summary>
    public void DestroyDomain(Domain domain)
    {
        if (!domain.BeginDestroy())
        {
            return;
        }

        Report(domain);
        foreach (var v in domain.Vcpus)
        {
            // A pCPU drops a removed vCPU at its next decision: a block boundary away.
            SpinWait.SpinUntil(() => !Scheduler.IsOnCpu(v.Sched), TimeSpan.FromSeconds(10));
        }

        EventChannels.RemoveDomain(domain.Events);
        Domains.Remove(domain.Id, domain);
        domain.GrantView.Close(); // a grant copy already inside finishes before the memory goes

        // Under the lock CloseService holds from removing a service to disposing it: a service closing
        // right now (a killed backend) has left Services but still holds its maps, and releases them into
        // this domain's grant table — which must still be there until it is done.
        lock (Services)
        {
            foreach (var service in Services.Values)
            {
                service.Maps.ForgetDomain(domain); // before its grant table's memory goes
            }
        }

        domain.Memory.Dispose();
        domain.Ioreq?.Dispose();
        Log.WriteKernel($"destroyed domain {domain.Id} '{domain.Name}'");
    }

    /// <summary>Tells the control domain a domain changed state (and raises VIRQ_DOM_EXC in the privileged domains that bound it).</summary>
    internal void Report(Domain domain)
    {
        var state = domain.State;
        StateChanged?.Invoke(new DomainStateChange(domain.Id, state, domain.ShutdownReason, MonotonicClock.Instance.NowNs, state == DomainState.Crashed ? domain.CrashReason : null));
        foreach (var table in PrivilegedTables)
        {
            EventChannels.RaiseVirq(table, Virq.DomExc);
        }
    }

    /// <summary>Event tables of service domains that watch domain state (xenstored, the toolstack).</summary>
    public List<EventChannelTable> PrivilegedTables { get; } = [];

    public void Dispose()
    {
        foreach (var d in Domains.Snapshot())
        {
            DestroyDomain(d);
        }

        _pcpus.Dispose();
        Timers.Dispose();
    }
}
