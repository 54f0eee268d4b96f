using Disagg.Abi.Grants;
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
    }

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

    public int MapCount
    {
        get
        {
            lock (_maps)
            {
                return _maps.Count;
            }
        }
    }

    /// <summary>
    /// GNTTABOP_map_grant_ref: checks that <paramref name="gref"/> of <paramref name="domain"/> is granted to
    /// this service (writable unless <paramref name="readOnly"/>), pins it, and returns a descriptor for that
    /// one page (read-only when asked) that the caller sends and then disposes.
    /// </summary>
    public GrantStatus Map(Domain domain, uint gref, bool readOnly, out long handle, out ulong frame, out FileDescriptor? fd)
    {
        handle = 0;
        fd = null;
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
        lock (_maps)
        {
            handle = _nextHandle++;
            _maps[handle] = new GrantMap(domain, gref, !readOnly);
        }

        return GrantStatus.Okay;
    }

    /// <summary>GNTTABOP_unmap_grant_ref by handle.</summary>
    public GrantStatus Unmap(long handle)
    {
        GrantMap map;
        lock (_maps)
        {
            if (!_maps.Remove(handle, out map))
            {
                return GrantStatus.BadHandle;
            }
        }

        map.Domain.Grants.Release(map.Ref, map.Write);
        return GrantStatus.Okay;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _hypervisor.EventChannels.RemoveDomain(Events);
        GrantMap[] maps;
        lock (_maps)
        {
            maps = [.. _maps.Values];
            _maps.Clear();
        }

        foreach (var map in maps)
        {
            map.Domain.Grants.Release(map.Ref, map.Write);
        }

        Doorbell.Dispose();
        EventPage.Dispose();
        Buffer.Dispose();
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
