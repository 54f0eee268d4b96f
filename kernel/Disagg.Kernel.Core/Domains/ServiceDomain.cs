using Disagg.Abi.Grants;
using Disagg.Abi.Service;
using Disagg.Interop;
using Disagg.Kernel.Core.Ipc.Events;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// A service domain (xenstored, netback, blkback, the toolstack as console backend) as the kernel sees it
/// while its channel is open: an event port table delivering into a page it shares with the service, a
/// doorbell, a copy buffer that is its memory for grant copy, and the grant maps it holds. Everything it
/// holds is released when the channel closes (the service died or disconnected): ports close and their
/// guest ends become unbound again, grant pins are dropped; a restarted service rebinds and remaps.
/// </summary>
public sealed unsafe class ServiceDomain : IDisposable
{
    public const int MaxBufferPages = 4096;

    private readonly Hypervisor _hypervisor;
    private readonly Dictionary<long, GrantMap> _maps = [];
    private readonly IDisposable _pump;
    private long _refusedSends;
    private int _draining;
    private long _nextHandle = 1;
    private bool _disposed;

    public ServiceDomain(Hypervisor hypervisor, int id, int bufferPages)
    {
        if (bufferPages is < 1 or > MaxBufferPages)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferPages), $"service domain {id}: copy buffer of {bufferPages} pages (1..{MaxBufferPages})");
        }

        _hypervisor = hypervisor;
        Id = id;
        EventPage = SharedMemorySegment.Create($"disagg-svc{id}-events", 1);
        Buffer = SharedMemorySegment.Create($"disagg-svc{id}-buffer", bufferPages);
        Doorbell = new Doorbell();
        Delivery = new BitmapEventDelivery(EventPage.Pointer, Doorbell.Ring);
        Events = hypervisor.EventChannels.AddDomain(id, privileged: false, vcpus: 1, Delivery);
        GrantView = new GrantDomain(id, table: null, new BufferFrames(Buffer));
        SendRing = SharedMemorySegment.Create($"disagg-svc{id}-sends", ServiceSendRing.SegmentPages);
        *(int*)(SendRing.Pointer + ServiceSendRing.ConsumerSleepingOffset) = 1;
        SendKick = new Doorbell();
        _pump = hypervisor.ServiceReactor.Register(SendKick, DrainSends);
    }

    /// <summary>The service's fast event sends (<see cref="ServiceSendRing"/>).</summary>
    public SharedMemorySegment SendRing { get; }

    /// <summary>Rung by the service when it finds the pump asleep.</summary>
    public Doorbell SendKick { get; }

    /// <summary>Ring entries the kernel dropped: ports the service may not send on (as Xen drops them), lying indices.</summary>
    public long RefusedSends => Volatile.Read(ref _refusedSends);

    public int Id { get; }

    /// <summary>Released (its connection went, or a newer connection of the same domain took over).</summary>
    public bool IsClosed => Volatile.Read(ref _disposed);

    public SharedMemorySegment EventPage { get; }

    public SharedMemorySegment Buffer { get; }

    public Doorbell Doorbell { get; }

    public BitmapEventDelivery Delivery { get; }

    public EventChannelTable Events { get; }

    /// <summary>How grant copy sees this service: no grant table of its own, its copy buffer as its frames.</summary>
    public GrantDomain GrantView { get; }

    /// <summary>
    /// GNTTABOP_map_grant_ref: checks that <paramref name="gref"/> of <paramref name="domain"/> is granted to
    /// this service (writable unless <paramref name="readOnly"/>), pins it, and returns a descriptor for that
    /// one page (read-only when asked) that the caller sends and then disposes.
    /// </summary>
    public GrantStatus Map(Domain domain, uint gref, bool readOnly, out long handle, out ulong frame, out FileDescriptor? fd)
    {
        handle = 0;
        frame = 0;
        fd = null;

        // All under the lock a dying domain's ForgetDomain takes before its memory goes: while we hold it
        // and the domain is not dying, its grant table and pages stay.
        lock (_maps)
        {
            if (domain.Dying)
            {
                return GrantStatus.BadDomain;
            }

            var status = domain.Grants.TryAcquire(gref, Id, !readOnly, out frame);
            if (status != GrantStatus.Okay)
            {
                return status;
            }

            FileDescriptor? shared;
            try
            {
                shared = domain.Memory.ShareFrame(frame, () => new DomainQuiesce(_hypervisor, domain));
            }
            catch (InteropException)
            {
                shared = null;
            }

            if (shared == null)
            {
                domain.Grants.Release(gref, !readOnly);
                return GrantStatus.BadPage;
            }

            fd = readOnly ? PageAdoption.OpenReadOnly(shared) : shared.Duplicate();
            handle = _nextHandle++;
            _maps[handle] = new GrantMap(domain, gref, !readOnly);
            return GrantStatus.Okay;
        }
    }

    /// <summary>GNTTABOP_unmap_grant_ref by handle.</summary>
    public GrantStatus Unmap(long handle)
    {
        lock (_maps)
        {
            // Released under the lock: a domain being destroyed forgets its maps under it first (ForgetDomain),
            // so a pin is never dropped into a grant table that is already gone.
            if (!_maps.Remove(handle, out var map))
            {
                return GrantStatus.BadHandle;
            }

            map.Domain.Grants.Release(map.Ref, map.Write);
            return GrantStatus.Okay;
        }
    }

    /// <summary>
    /// The domain is being destroyed: drop every map of it without touching its grant table (its memory goes
    /// next). The service keeps its own mapping of the page, which stays valid; only the grant is gone.
    /// </summary>
    public void ForgetDomain(Domain domain)
    {
        lock (_maps)
        {
            foreach (var (handle, map) in _maps.ToArray())
            {
                if (map.Domain == domain)
                {
                    _maps.Remove(handle);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _pump.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref _draining) == 0); // the reactor may be mid-drain: let it finish
        _hypervisor.EventChannels.RemoveDomain(Events);
        lock (_maps)
        {
            foreach (var map in _maps.Values)
            {
                map.Domain.Grants.Release(map.Ref, map.Write);
            }

            _maps.Clear();
        }

        Doorbell.Dispose();
        EventPage.Dispose();
        Buffer.Dispose();
        SendKick.Dispose();
        SendRing.Dispose();
    }

    /// <summary>
    /// On the reactor thread: sends every queued port, then announces sleep and checks once more, so an
    /// entry published just before the announcement is not left behind. Indices are free-running u32s; a
    /// producer index more than a ring ahead (a lying service) drops the backlog.
    /// </summary>
    private void DrainSends()
    {
        Interlocked.Increment(ref _draining);
        try
        {
            if (!Volatile.Read(ref _disposed))
            {
                DrainSendsNow();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _draining);
        }
    }

    private void DrainSendsNow()
    {
        var ring = SendRing.Pointer;
        var producer = (uint*)(ring + ServiceSendRing.ProducerOffset);
        var consumer = (uint*)(ring + ServiceSendRing.ConsumerOffset);
        var sleeping = (int*)(ring + ServiceSendRing.ConsumerSleepingOffset);
        var entries = (uint*)(ring + ServiceSendRing.EntriesOffset);
        while (true)
        {
            var c = Volatile.Read(ref *consumer);
            var p = Volatile.Read(ref *producer);
            if (p - c > ServiceSendRing.Entries)
            {
                Interlocked.Add(ref _refusedSends, p - c);
                Volatile.Write(ref *consumer, p);
                continue;
            }

            for (; c != p; c++)
            {
                var port = Volatile.Read(ref entries[c % ServiceSendRing.Entries]);
                if (port >= EventChannelTable.MaxPorts || _hypervisor.EventChannels.Send(Events, (int)port) < 0)
                {
                    Interlocked.Increment(ref _refusedSends);
                }
            }

            Volatile.Write(ref *consumer, c);
            var copiesIdle = DrainCopies();
            Volatile.Write(ref *sleeping, 1);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref *producer) == c && copiesIdle && !CopiesQueued())
            {
                return;
            }
        }
    }

    private bool CopiesQueued()
    {
        var page = SendRing.Pointer + ServiceCopyRing.PageOffset;
        return Volatile.Read(ref *(uint*)(page + ServiceCopyRing.ProducerOffset)) != Volatile.Read(ref *(uint*)(page + ServiceCopyRing.ConsumerOffset));
    }

    /// <summary>Performs every queued grant copy; true if there was nothing to do.</summary>
    private bool DrainCopies()
    {
        var page = SendRing.Pointer + ServiceCopyRing.PageOffset;
        var producer = (uint*)(page + ServiceCopyRing.ProducerOffset);
        var consumer = (uint*)(page + ServiceCopyRing.ConsumerOffset);
        var c = Volatile.Read(ref *consumer);
        var p = Volatile.Read(ref *producer);
        if (p == c)
        {
            return true;
        }

        if (p - c > ServiceCopyRing.Entries)
        {
            Interlocked.Add(ref _refusedSends, p - c); // a lying producer: drop the backlog
            Volatile.Write(ref *consumer, p);
            return false;
        }

        for (; c != p; c++)
        {
            var entry = (GrantCopy*)(page + ServiceCopyRing.EntriesOffset + ((c % ServiceCopyRing.Entries) * ServiceCopyRing.EntrySize));
            var op = *entry; // our own copy: the service may rewrite the shared entry while we check it
            entry->Status = (short)_hypervisor.GrantCopier.Copy(GrantView, ref op);
        }

        Volatile.Write(ref *consumer, c);
        var sleeping = (int*)(EventPage.Pointer + ServiceEventPage.SleepingOffset);
        if (Interlocked.Exchange(ref *sleeping, 0) != 0)
        {
            Doorbell.Ring();
        }

        return false;
    }

    private readonly record struct GrantMap(Domain Domain, uint Ref, bool Write);

    /// <summary>The service's copy buffer as its frames 0..pages-1.</summary>
    private sealed class BufferFrames(SharedMemorySegment buffer) : IGuestFrames
    {
        public byte* TryGetFrame(ulong frame, bool write) =>
            frame < (ulong)buffer.Pages ? buffer.Pointer + ((long)frame * SharedMemorySegment.PageSize) : null;
    }

    /// <summary>Keeps a domain's vCPUs off every pCPU while one of its pages moves (a few microseconds).</summary>
    private sealed class DomainQuiesce : IDisposable
    {
        private readonly Hypervisor _hypervisor;
        private readonly Domain _domain;

        public DomainQuiesce(Hypervisor hypervisor, Domain domain)
        {
            _hypervisor = hypervisor;
            _domain = domain;
            foreach (var v in domain.Vcpus)
            {
                hypervisor.Scheduler.Pause(v.Sched);
            }

            foreach (var v in domain.Vcpus)
            {
                SpinWait.SpinUntil(() => !hypervisor.Scheduler.IsOnCpu(v.Sched), TimeSpan.FromSeconds(10));
            }
        }

        public void Dispose()
        {
            foreach (var v in _domain.Vcpus)
            {
                _hypervisor.Scheduler.Unpause(v.Sched);
            }
        }
    }
}
