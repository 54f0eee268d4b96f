using Disagg.Abi.Grants;
using Disagg.Abi.Service;
using Disagg.Interop;
using Disagg.Kernel.Core.Ipc.Events;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// A service domain (xenstored, netback, blkback, the toolstack as console backend) as the kernel sees it
/// while its channel is open: an event port table delivering into a page it shares with the service, a
/// doorbell, a copy buffer that is its memory for grant copy, and the grant maps it holds (Ipc/Grants/MaptrackTable). Everything it
/// holds is released when the channel closes (the service died or disconnected): ports close and their
/// guest ends become unbound again, grant pins are dropped; a restarted service rebinds and remaps.
/// </summary>
public sealed unsafe class ServiceDomain : IDisposable
{
    public const int MaxBufferPages = 4096;

    /// <summary>Grant table frames a native frontend may have (512 grants each), as Xen's default max_grant_frames.</summary>
    public const int MaxGrantFrames = 64;

    /// <summary>Mappable pages one service may hold (its rings).</summary>
    public const int MaxSharedPages = 1024;

    /// <summary>Frame number of the first mappable page; the copy buffer's frames stay below it.</summary>
    public const ulong SharedPageBase = 0x10_0000;

    private readonly Hypervisor _hypervisor;
    private readonly SharedMemorySegment?[] _sharedPages = new SharedMemorySegment?[MaxSharedPages];
    private int _sharedPageCount;
    private readonly IDisposable _pump;
    private long _refusedSends;
    private int _draining;
    private bool _disposed;

    public ServiceDomain(Hypervisor hypervisor, int id, int bufferPages, int grantFrames = 0)
    {
        if (bufferPages is < 1 or > MaxBufferPages)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferPages), $"service domain {id}: copy buffer of {bufferPages} pages (1..{MaxBufferPages})");
        }

        if (grantFrames is < 0 or > MaxGrantFrames)
        {
            throw new ArgumentOutOfRangeException(nameof(grantFrames), $"service domain {id}: grant table of {grantFrames} frames (0..{MaxGrantFrames})");
        }

        _hypervisor = hypervisor;
        Id = id;
        EventPage = SharedMemorySegment.Create($"disagg-svc{id}-events", 1);
        Buffer = SharedMemorySegment.Create($"disagg-svc{id}-buffer", bufferPages);
        Doorbell = new Doorbell();
        Delivery = new BitmapEventDelivery(EventPage.Pointer, Doorbell.Ring);
        Events = hypervisor.EventChannels.AddDomain(id, privileged: false, vcpus: 1, Delivery);
        if (grantFrames > 0)
        {
            GrantTableSegment = SharedMemorySegment.Create($"disagg-svc{id}-grants", grantFrames);
            var frames = new byte*[grantFrames];
            for (var i = 0; i < grantFrames; i++)
            {
                frames[i] = GrantTableSegment.Pointer + ((long)i * SharedMemorySegment.PageSize);
            }

            Grants = new GrantTable(id, frames);
        }

        GrantView = new GrantDomain(id, Grants, new ServiceFrames(this));
        Maps = new MaptrackTable(hypervisor, id);
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

    /// <summary>Grant maps this service holds now (a leak check's counter).</summary>
    public int MapCount => Maps.Count;

    /// <summary>Shared pages this service allocated (they live as long as its channel).</summary>
    public int SharedPageCount => Volatile.Read(ref _sharedPageCount);

    /// <summary>Released (its connection went, or a newer connection of the same domain took over).</summary>
    public bool IsClosed => Volatile.Read(ref _disposed);

    public SharedMemorySegment EventPage { get; }

    public SharedMemorySegment Buffer { get; }

    public Doorbell Doorbell { get; }

    public BitmapEventDelivery Delivery { get; }

    public EventChannelTable Events { get; }

    /// <summary>How grant operations see this service: its grant table if it has one, its copy buffer and shared pages as its frames.</summary>
    public GrantDomain GrantView { get; }

    /// <summary>The grant maps it holds (GNTTABOP_map_grant_ref / unmap), released when its channel closes.</summary>
    public MaptrackTable Maps { get; }

    /// <summary>A native frontend's grant table, written by the service; null for a pure backend.</summary>
    public GrantTable? Grants { get; }

    /// <summary>The grant table's pages, shared with the service.</summary>
    public SharedMemorySegment? GrantTableSegment { get; }

    /// <summary>
    /// A new page of this service's memory that others can map through a grant (a native frontend's ring):
    /// its own file, so a mapper is handed exactly that page. Null once <see cref="MaxSharedPages"/> exist.
    /// </summary>
    public SharedMemorySegment? AllocSharedPage(out ulong frame)
    {
        lock (_sharedPages)
        {
            frame = 0;
            if (_sharedPageCount == MaxSharedPages)
            {
                return null;
            }

            var page = SharedMemorySegment.Create($"disagg-svc{Id}-page{_sharedPageCount}", 1);
            frame = SharedPageBase + (ulong)_sharedPageCount;
            Volatile.Write(ref _sharedPages[_sharedPageCount], page);
            _sharedPageCount++;
            return page;
        }
    }

    /// <summary>The shared page at <paramref name="frame"/>, or null (a frame of the copy buffer, or none).</summary>
    internal SharedMemorySegment? SharedPage(ulong frame) =>
        frame - SharedPageBase < (ulong)MaxSharedPages ? Volatile.Read(ref _sharedPages[frame - SharedPageBase]) : null;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        GrantView.Close();
        _pump.Dispose();
        SpinWait.SpinUntil(() => Volatile.Read(ref _draining) == 0); // the reactor may be mid-drain: let it finish
        _hypervisor.EventChannels.RemoveDomain(Events);
        Maps.ReleaseAll();

        Doorbell.Dispose();
        EventPage.Dispose();
        Buffer.Dispose();
        SendKick.Dispose();
        SendRing.Dispose();
        GrantTableSegment?.Dispose();
        lock (_sharedPages)
        {
            for (var i = 0; i < _sharedPageCount; i++)
            {
                _sharedPages[i]!.Dispose();
                _sharedPages[i] = null;
            }
        }
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

    private static readonly long PollTicks = System.Diagnostics.Stopwatch.Frequency * 30 / 1_000_000;

    private void DrainSendsNow()
    {
        var ring = SendRing.Pointer;
        var producer = (uint*)(ring + ServiceSendRing.ProducerOffset);
        var consumer = (uint*)(ring + ServiceSendRing.ConsumerOffset);
        var sleeping = (int*)(ring + ServiceSendRing.ConsumerSleepingOffset);
        var entries = (uint*)(ring + ServiceSendRing.EntriesOffset);
        var start = Volatile.Read(ref *consumer);
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
            if (!copiesIdle || c != start)
            {
                // Busy: the service's next send or copy is likely microseconds away. Watching the rings that long
                // saves it the kick and us the wake-up (both system calls, and a wake-up is ~6 us here).
                start = c;
                var until = System.Diagnostics.Stopwatch.GetTimestamp() + PollTicks;
                while (Volatile.Read(ref *producer) == c && !CopiesQueued() && System.Diagnostics.Stopwatch.GetTimestamp() < until)
                {
                    Thread.SpinWait(16);
                }

                if (Volatile.Read(ref *producer) != c || CopiesQueued())
                {
                    continue;
                }
            }

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

    /// <summary>The service's memory: its copy buffer as frames 0..pages-1, its shared pages from <see cref="SharedPageBase"/>.</summary>
    private sealed class ServiceFrames(ServiceDomain service) : IGuestFrames
    {
        public byte* TryGetFrame(ulong frame, bool write)
        {
            if (frame < (ulong)service.Buffer.Pages)
            {
                return service.Buffer.Pointer + ((long)frame * SharedMemorySegment.PageSize);
            }

            return service.SharedPage(frame) is { } page ? page.Pointer : null;
        }
    }
}
