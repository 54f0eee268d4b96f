using Disagg.Abi.Service;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// A service domain's channel to the kernel: set-up requests over the control socket (descriptors travel
/// with the replies), events through a shared pending bitmap and a doorbell, grant copy through a shared
/// copy buffer. Taking events costs no system call while events keep coming: the doorbell is rung only
/// after the service said it was going to sleep (<see cref="WaitForEvents"/>).
/// </summary>
public sealed class ServiceChannel : IAsyncDisposable
{
    private readonly KernelClient _kernel;
    private readonly SharedMemorySegment _events;
    private readonly SharedMemorySegment _buffer;
    private readonly SharedMemorySegment _sends;
    private readonly Doorbell _sendKick;
    private readonly int _pendingWords;

    private readonly SharedMemorySegment? _grantTable;

    private ServiceChannel(KernelClient kernel, ServiceChannelOpened opened, SharedMemorySegment events, Doorbell doorbell, SharedMemorySegment buffer, SharedMemorySegment sends, Doorbell sendKick, SharedMemorySegment? grantTable)
    {
        _grantTable = grantTable;
        Grants = grantTable is null ? null : new ServiceGrantTable(grantTable);
        _kernel = kernel;
        _events = events;
        _buffer = buffer;
        _sends = sends;
        _sendKick = sendKick;
        Doorbell = doorbell;
        DomainId = opened.DomainId;
        MaxPorts = opened.MaxPorts;
        _pendingWords = opened.MaxPorts / 64;
    }

    public int DomainId { get; }

    public int MaxPorts { get; }

    /// <summary>The doorbell, for a service that waits on many descriptors at once (EpollReactor).</summary>
    public Doorbell Doorbell { get; }

    /// <summary>The kernel connection, for requests this class does not wrap (ListDomains, Subscribe, ...).</summary>
    public KernelClient Kernel => _kernel;

    public int BufferPages => (int)_buffer.Pages;

    /// <summary>
    /// A native frontend's own grant table (opened with grantFrames &gt; 0): other services copy from and to its
    /// copy buffer pages, and map its <see cref="SharedPage"/>s, through the grants it writes here. Null for a backend.
    /// </summary>
    public ServiceGrantTable? Grants { get; }

    /// <summary>Connects with the service's token and opens its channel with a copy buffer of <paramref name="bufferPages"/> pages.</summary>
    public static Task<ServiceChannel> OpenAsync(string kernelSocket, string token, int bufferPages = 256, CancellationToken cancel = default) =>
        OpenAsync(kernelSocket, token, bufferPages, grantFrames: 0, cancel);

    /// <summary>
    /// Connects with the service's token and opens its channel with a copy buffer of <paramref name="bufferPages"/>
    /// pages, and with <paramref name="grantFrames"/> &gt; 0 a grant table of that many frames (a native frontend).
    /// </summary>
    public static async Task<ServiceChannel> OpenAsync(string kernelSocket, string token, int bufferPages, int grantFrames, CancellationToken cancel = default)
    {
        var kernel = await KernelClient.ConnectAsync(kernelSocket, token, cancel).ConfigureAwait(false);
        try
        {
            var (opened, fds) = await kernel.CallWithFdsAsync<ServiceChannelOpened>(new OpenServiceChannel(bufferPages, grantFrames), cancel).ConfigureAwait(false);
            var events = SharedMemorySegment.Map(fds[0], 1);
            var doorbell = new Doorbell(fds[1]);
            var buffer = SharedMemorySegment.Map(fds[2], opened.BufferPages);
            var sends = SharedMemorySegment.Map(fds[3], ServiceSendRing.SegmentPages);
            var sendKick = new Doorbell(fds[4]);
            var grants = opened.GrantFrames > 0 ? SharedMemorySegment.Map(fds[5], opened.GrantFrames) : null;
            return new ServiceChannel(kernel, opened, events, doorbell, buffer, sends, sendKick, grants);
        }
        catch
        {
            await kernel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens the channel described by the environment the host daemon gave this process.</summary>
    public static Task<ServiceChannel> OpenAsync(ServiceEnvironment environment, int bufferPages = 256, CancellationToken cancel = default) =>
        OpenAsync(environment.KernelSocket, environment.Token, bufferPages, grantFrames: 0, cancel);

    /// <summary>A new page a native frontend can grant for mapping (a ring); see <see cref="SharedPage"/>.</summary>
    public async Task<SharedPage> AllocSharedPageAsync(CancellationToken cancel = default)
    {
        var (allocated, fds) = await _kernel.CallWithFdsAsync<SharedPageAllocated>(new AllocSharedPage(), cancel).ConfigureAwait(false);
        return new SharedPage(SharedMemorySegment.Map(fds[0], 1), allocated.Frame);
    }

    /// <summary>Page <paramref name="page"/> of the copy buffer: frame number <paramref name="page"/> in a <see cref="GrantCopyOp"/>.</summary>
    public unsafe Span<byte> BufferPage(int page) =>
        (uint)page < (uint)_buffer.Pages
            ? new Span<byte>(_buffer.Pointer + ((long)page * SharedMemorySegment.PageSize), SharedMemorySegment.PageSize)
            : throw new ArgumentOutOfRangeException(nameof(page), $"copy buffer page {page} of {_buffer.Pages}");

    /// <summary>
    /// Copy buffer pages <paramref name="firstPage"/> .. +<paramref name="pages"/> as one span (the buffer is one
    /// mapping), so a backend can do one pread/pwrite for a request whose data spans several pages.
    /// </summary>
    public unsafe Span<byte> BufferSpan(int firstPage, int pages) =>
        firstPage >= 0 && pages >= 0 && (long)firstPage + pages <= _buffer.Pages
            ? new Span<byte>(_buffer.Pointer + ((long)firstPage * SharedMemorySegment.PageSize), pages * SharedMemorySegment.PageSize)
            : throw new ArgumentOutOfRangeException(nameof(pages), $"copy buffer pages {firstPage}+{pages} of {_buffer.Pages}");

    /// <summary>Takes every pending port (clearing them), up to <paramref name="ports"/>' length. No system call.</summary>
    public unsafe int TakePendingEvents(Span<int> ports)
    {
        var words = (long*)(_events.Pointer + ServiceEventPage.PendingOffset);
        var n = 0;
        for (var w = 0; w < _pendingWords && n < ports.Length; w++)
        {
            if (Volatile.Read(ref words[w]) == 0)
            {
                continue;
            }

            var bits = Interlocked.Exchange(ref words[w], 0);
            while (bits != 0)
            {
                var b = System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (n < ports.Length)
                {
                    ports[n++] = (w * 64) + b;
                }
                else
                {
                    Interlocked.Or(ref words[w], 1L << b); // no room: leave it pending for the next call
                }
            }
        }

        return n;
    }

    /// <summary>
    /// Sleeps until an event is pending or <paramref name="timeout"/> passes: announces the sleep (so the
    /// kernel rings the doorbell once), re-checks the bitmap, then waits. True if events may be pending.
    /// </summary>
    public bool WaitForEvents(TimeSpan timeout)
    {
        if (PrepareToSleep())
        {
            return true;
        }

        var rung = Doorbell.Wait(timeout);
        return rung || AnyPending();
    }

    /// <summary>
    /// For a service whose own loop waits on <see cref="Doorbell"/> (an epoll reactor): announces that it is
    /// about to sleep, so the kernel rings the doorbell at the next event, and re-checks. True if events are
    /// already pending — then take them instead of sleeping.
    /// </summary>
    public unsafe bool PrepareToSleep()
    {
        var sleeping = (int*)(_events.Pointer + ServiceEventPage.SleepingOffset);
        Volatile.Write(ref *sleeping, 1);
        Interlocked.MemoryBarrier();
        return AnyPending();
    }

    /// <summary>
    /// Completes when events may be pending: at once if they are, else when the doorbell rings. The wait runs
    /// on <paramref name="reactor"/>'s thread, so one thread serves any number of channels and descriptors.
    /// </summary>
    public async Task WaitForEventsAsync(EpollReactor reactor, CancellationToken cancel = default)
    {
        if (PrepareToSleep())
        {
            return;
        }

        await reactor.WaitAsync(Doorbell, cancel).ConfigureAwait(false);
    }

    public async Task<int> AllocUnboundAsync(int remoteDomain, CancellationToken cancel = default) =>
        (await _kernel.CallAsync<EventPortBound>(new AllocUnboundPort(remoteDomain), cancel).ConfigureAwait(false)).Port;

    public async Task<int> BindInterdomainAsync(int remoteDomain, int remotePort, CancellationToken cancel = default) =>
        (await _kernel.CallAsync<EventPortBound>(new BindInterdomainPort(remoteDomain, remotePort), cancel).ConfigureAwait(false)).Port;

    /// <summary>
    /// EVTCHNOP_send through the control socket: answered, so a bad port is an error here. Thread-safe.
    /// The hot path is <see cref="Notify"/>.
    /// </summary>
    public Task NotifyAsync(int port, CancellationToken cancel = default) => _kernel.CallAsync<OkReply>(new SendEvent(port), cancel);

    /// <summary>
    /// EVTCHNOP_send through the shared send ring: no system call unless the kernel's pump is asleep, no reply
    /// (a port we may not send on is dropped and counted by the kernel, as Xen drops sends on unbound ports).
    /// One thread at a time (the ring has one producer). False when the ring is full (use <see cref="NotifyAsync"/>).
    /// </summary>
    public unsafe bool Notify(int port)
    {
        var ring = _sends.Pointer;
        var producer = (uint*)(ring + ServiceSendRing.ProducerOffset);
        var p = *producer;
        if (p - Volatile.Read(ref *(uint*)(ring + ServiceSendRing.ConsumerOffset)) >= ServiceSendRing.Entries)
        {
            return false;
        }

        Volatile.Write(ref ((uint*)(ring + ServiceSendRing.EntriesOffset))[p % ServiceSendRing.Entries], (uint)port);
        Volatile.Write(ref *producer, p + 1);
        Interlocked.MemoryBarrier();
        if (Interlocked.Exchange(ref *(int*)(ring + ServiceSendRing.ConsumerSleepingOffset), 0) != 0)
        {
            _sendKick.Ring();
        }

        return true;
    }

    public Task CloseAsync(int port, CancellationToken cancel = default) => _kernel.CallAsync<OkReply>(new CloseEventPort(port), cancel);

    /// <summary>Maps page <paramref name="gref"/> that <paramref name="domain"/> granted us.</summary>
    public async Task<MappedGrant> MapGrantAsync(int domain, uint gref, bool readOnly = false, CancellationToken cancel = default)
    {
        var (mapped, fds) = await _kernel.CallWithFdsAsync<GrantMapped>(new MapGrantRef(domain, gref, readOnly), cancel).ConfigureAwait(false);
        var page = readOnly ? SharedMemorySegment.MapReadOnly(fds[0], 1) : SharedMemorySegment.Map(fds[0], 1);
        return new MappedGrant(this, page, domain, gref, mapped.Handle, mapped.Frame, readOnly);
    }

    /// <summary>
    /// Maps grants <paramref name="grefs"/> of <paramref name="domain"/> as consecutive pages, in order: a
    /// multi-page ring (blkif's ring-ref0..N-1). All or nothing: a grant that does not map releases the others.
    /// </summary>
    public async Task<MappedGrantRange> MapGrantsAsync(int domain, IReadOnlyList<uint> grefs, CancellationToken cancel = default)
    {
        var window = PageWindow.Reserve(grefs.Count);
        var handles = new List<long>(grefs.Count);
        try
        {
            for (var i = 0; i < grefs.Count; i++)
            {
                var (mapped, fds) = await _kernel.CallWithFdsAsync<GrantMapped>(new MapGrantRef(domain, grefs[i], false), cancel).ConfigureAwait(false);
                handles.Add(mapped.Handle);
                using var fd = fds[0];
                window.Place(i, fd);
            }

            return new MappedGrantRange(this, window, domain, [.. handles]);
        }
        catch
        {
            window.Dispose();
            foreach (var handle in handles)
            {
                await UnmapAsync(handle).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>
    /// <paramref name="count"/> new shared pages (see <see cref="AllocSharedPageAsync"/>) as consecutive pages
    /// here: a native frontend's multi-page ring. Each still has its own frame to grant.
    /// </summary>
    public async Task<SharedPageRange> AllocSharedPagesAsync(int count, CancellationToken cancel = default)
    {
        var window = PageWindow.Reserve(count);
        try
        {
            var frames = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                var (allocated, fds) = await _kernel.CallWithFdsAsync<SharedPageAllocated>(new AllocSharedPage(), cancel).ConfigureAwait(false);
                using var fd = fds[0];
                window.Place(i, fd);
                frames[i] = allocated.Frame;
            }

            return new SharedPageRange(window, frames);
        }
        catch
        {
            window.Dispose();
            throw;
        }
    }

    internal async Task UnmapAsync(long handle)
    {
        try
        {
            await _kernel.CallAsync<OkReply>(new UnmapGrantRef(handle)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is KernelConnectionLostException or KernelRequestException)
        {
            // the kernel released it already: the connection went, or a newer one took the channel over
        }
    }

    /// <summary>
    /// Queues grant copies on the shared copy ring (no request, no allocation; the pump is kicked only if it
    /// sleeps). <paramref name="end"/> is the ticket to wait for. False if the ring lacks room for all of them.
    /// One thread at a time, as for <see cref="Notify"/>.
    /// </summary>
    public unsafe bool TrySubmitCopies(ReadOnlySpan<Abi.Grants.GrantCopy> ops, out uint end)
    {
        var page = _sends.Pointer + ServiceCopyRing.PageOffset;
        var producer = (uint*)(page + ServiceCopyRing.ProducerOffset);
        var p = *producer;
        end = p;
        if (ops.Length > ServiceCopyRing.Entries - (int)(p - Volatile.Read(ref *(uint*)(page + ServiceCopyRing.ConsumerOffset))))
        {
            return false;
        }

        foreach (var op in ops)
        {
            var entry = (Abi.Grants.GrantCopy*)(page + ServiceCopyRing.EntriesOffset + ((p % ServiceCopyRing.Entries) * sizeof(Abi.Grants.GrantCopy)));
            *entry = op;
            entry->Status = 1; // not done yet (no GNTST value is positive)
            p++;
        }

        end = p;
        Volatile.Write(ref *producer, p);
        Interlocked.MemoryBarrier();
        if (Interlocked.Exchange(ref *(int*)(_sends.Pointer + ServiceSendRing.ConsumerSleepingOffset), 0) != 0)
        {
            _sendKick.Ring();
        }

        return true;
    }

    /// <summary>Whether the kernel has performed every copy submitted before <paramref name="end"/>.</summary>
    public unsafe bool CopiesDone(uint end) =>
        (int)(Volatile.Read(ref *(uint*)(_sends.Pointer + ServiceCopyRing.PageOffset + ServiceCopyRing.ConsumerOffset)) - end) >= 0;

    private static readonly long CopySpinTicks = System.Diagnostics.Stopwatch.Frequency * 50 / 1_000_000;

    /// <summary>Sleeps (on the event doorbell) until the copies up to <paramref name="end"/> are done or the timeout passes.</summary>
    public bool WaitForCopies(uint end, TimeSpan timeout)
    {
        // A batch of copies takes the kernel's pump microseconds: watching the ring that long is cheaper than
        // the two wake-ups of a sleep (and the pump skips the doorbell for a service that is not asleep).
        var spinUntil = System.Diagnostics.Stopwatch.GetTimestamp() + CopySpinTicks;
        while (!CopiesDone(end) && System.Diagnostics.Stopwatch.GetTimestamp() < spinUntil)
        {
            Thread.SpinWait(8);
        }

        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!CopiesDone(end))
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return false;
            }

            if (!PrepareToSleep() && !CopiesDone(end))
            {
                Doorbell.Wait(TimeSpan.FromMilliseconds(left));
            }
        }

        return true;
    }

    /// <summary>The status of the copy submitted as number <paramref name="index"/> (valid until its slot is reused).</summary>
    public unsafe short CopyStatus(uint index) =>
        Volatile.Read(ref ((Abi.Grants.GrantCopy*)(_sends.Pointer + ServiceCopyRing.PageOffset + ServiceCopyRing.EntriesOffset))[index % ServiceCopyRing.Entries].Status);

    /// <summary>Performs grant copies in order; returns each one's GNTST status (0 = done).</summary>
    public async Task<short[]> CopyAsync(GrantCopyOp[] ops, CancellationToken cancel = default) =>
        (await _kernel.CallAsync<GrantCopyResult>(new GrantCopyBatch(ops), cancel).ConfigureAwait(false)).Status;

    public async ValueTask DisposeAsync()
    {
        await _kernel.DisposeAsync().ConfigureAwait(false);
        _events.Dispose();
        _buffer.Dispose();
        _sends.Dispose();
        _sendKick.Dispose();
        _grantTable?.Dispose();
        Doorbell.Dispose();
    }

    private unsafe bool AnyPending()
    {
        var words = (long*)(_events.Pointer + ServiceEventPage.PendingOffset);
        for (var w = 0; w < _pendingWords; w++)
        {
            if (Volatile.Read(ref words[w]) != 0)
            {
                return true;
            }
        }

        return false;
    }
}
