using Disagg.Abi.Service;

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
    private readonly Action _ring;

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

    private void Wake()
    {
        if (Interlocked.Exchange(ref *_sleeping, 0) != 0)
        {
            _ring();
        }
    }
}
