namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// Events for a service process (a native domain): a pending bitmap the service reads and
/// clears, and a doorbell rung when a port becomes pending — once per pending transition, so a
/// busy service is not woken per event. The bitmap lives in memory the service shares with the
/// kernel; ringing is whatever the doorbell does (an eventfd write for a real service).
/// </summary>
public sealed class BitmapEventDelivery(Action ring) : IEventDelivery
{
    private readonly long[] _pending = new long[EventChannelTable.MaxPorts / 64];
    private readonly long[] _mask = new long[EventChannelTable.MaxPorts / 64];

    public void SetPending(int port, int vcpu)
    {
        var bit = 1L << (port & 63);
        if ((Interlocked.Or(ref _pending[port >> 6], bit) & bit) == 0 && (Volatile.Read(ref _mask[port >> 6]) & bit) == 0)
        {
            ring();
        }
    }

    public void ClearPending(int port) => Interlocked.And(ref _pending[port >> 6], ~(1L << (port & 63)));

    public void Unmask(int port, int vcpu)
    {
        var bit = 1L << (port & 63);
        Interlocked.And(ref _mask[port >> 6], ~bit);
        if ((Volatile.Read(ref _pending[port >> 6]) & bit) != 0)
        {
            ring();
        }
    }

    public bool IsPending(int port) => (Volatile.Read(ref _pending[port >> 6]) & (1L << (port & 63))) != 0;

    public bool IsMasked(int port) => (Volatile.Read(ref _mask[port >> 6]) & (1L << (port & 63))) != 0;

    /// <summary>Takes (reads and clears) every pending, unmasked port, as the service's event loop does.</summary>
    public int TakePending(Span<int> ports)
    {
        var n = 0;
        for (var w = 0; w < _pending.Length && n < ports.Length; w++)
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
}
