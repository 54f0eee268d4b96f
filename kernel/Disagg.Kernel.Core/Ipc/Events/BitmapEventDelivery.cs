namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// Events for a service process (a native domain): a pending bitmap the service takes with atomic
/// exchanges, and a doorbell rung when a port becomes pending. The bitmap lives in a page the service
/// shares with the kernel (<see cref="ServiceEventPage"/>); with a sleeping flag there, the doorbell is
/// rung only when the service said it is about to sleep, once per sleep, so a busy service costs no
/// system call per event.
/// </summary>
public sealed unsafe class BitmapEventDelivery : IEventDelivery
{
    private readonly long* _pending;
    private readonly int* _sleeping;
    private readonly long[] _mask = new long[EventChannelTable.MaxPorts / 64];
    private readonly long[]? _ownPending;
    private readonly Action _ring;

    /// <summary>A bitmap in kernel memory, rung on every pending transition (tests, in-process services).</summary>
    public BitmapEventDelivery(Action ring)
    {
        _ownPending = GC.AllocateArray<long>(EventChannelTable.MaxPorts / 64, pinned: true);
        fixed (long* p = _ownPending)
        {
            _pending = p; // pinned for the object's life
        }

        _ring = ring;
    }

    /// <summary>The bitmap and sleeping flag of a shared <see cref="ServiceEventPage"/>.</summary>
    public BitmapEventDelivery(byte* page, Action ring)
    {
        _pending = (long*)(page + ServiceEventPage.PendingOffset);
        _sleeping = (int*)(page + ServiceEventPage.SleepingOffset);
        _ring = ring;
    }

    public void SetPending(int port, int vcpu)
    {
        var bit = 1L << (port & 63);
        if ((Interlocked.Or(ref _pending[port >> 6], bit) & bit) == 0 && (Volatile.Read(ref _mask[port >> 6]) & bit) == 0)
        {
            Wake();
        }
    }

    public void ClearPending(int port) => Interlocked.And(ref _pending[port >> 6], ~(1L << (port & 63)));

    public void Unmask(int port, int vcpu)
    {
        var bit = 1L << (port & 63);
        Interlocked.And(ref _mask[port >> 6], ~bit);
        if ((Volatile.Read(ref _pending[port >> 6]) & bit) != 0)
        {
            Wake();
        }
    }

    public bool IsPending(int port) => (Volatile.Read(ref _pending[port >> 6]) & (1L << (port & 63))) != 0;

    public bool IsMasked(int port) => (Volatile.Read(ref _mask[port >> 6]) & (1L << (port & 63))) != 0;

    /// <summary>Takes (reads and clears) every pending, unmasked port, as the service's event loop does.</summary>
    public int TakePending(Span<int> ports)
    {
        var n = 0;
        for (var w = 0; w < EventChannelTable.MaxPorts / 64 && n < ports.Length; w++)
        {
            var bits = Volatile.Read(ref _pending[w]) & ~Volatile.Read(ref _mask[w]);
            while (bits != 0 && n < ports.Length)
            {
                var b = System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                Interlocked.And(ref _pending[w], ~(1L << b));
                ports[n++] = (w * 64) + b;
            }
        }

        return n;
    }

    private void Wake()
    {
        if (_sleeping == null || Interlocked.Exchange(ref *_sleeping, 0) != 0)
        {
            _ring();
        }
    }
}
