using System.Collections.Concurrent;
using System.Diagnostics;
using Disagg.Abi.Grants;
using Disagg.Control.Messages;
using Disagg.Interop;

namespace Disagg.Service.Faults;

/// <summary>
/// A backend's <see cref="IBackendChannel"/> with the faults a fault-injection host armed: notifications held back
/// (<see cref="ChannelFaultKind.RingDelay"/>) or dropped (<see cref="ChannelFaultKind.RingDropNotify"/>), an event
/// nobody sent in both directions (<see cref="ChannelFaultKind.RingSpuriousNotify"/>: the data path sees its last
/// port pending, the peer gets one more notification), and a grant copy reporting GNTST_general_error
/// (<see cref="ChannelFaultKind.CopyError"/>). Built only when the service has <see cref="ChannelFaults"/>: a normal
/// backend's data path calls the real channel through the same interface, and pays nothing for this.
/// Every member runs on the data-path thread, as the interface says; a held-back notification is sent from there too
/// (the send ring has one producer): a timer only rings the doorbell when one falls due.
/// </summary>
public sealed class FaultingBackendChannel(IBackendChannel inner, ChannelFaults faults) : IBackendChannel
{
    private readonly ConcurrentQueue<(int Port, long DueTicks)> _held = new();
    private Timer? _timer;
    private int _lastNotified = -1;
    private int _lastPending = -1;

    public int BufferPages => inner.BufferPages;

    public int CopyRingEntries => inner.CopyRingEntries;

    public Doorbell Doorbell => inner.Doorbell;

    public Span<byte> Buffer(int firstPage, int pages) => inner.Buffer(firstPage, pages);

    public bool TrySubmitCopies(ReadOnlySpan<GrantCopy> ops, out uint end) => inner.TrySubmitCopies(ops, out end);

    public bool CopiesDone(uint end) => inner.CopiesDone(end);

    public bool WaitForCopies(uint end, TimeSpan timeout) => inner.WaitForCopies(end, timeout);

    public short CopyStatus(uint index)
    {
        var status = inner.CopyStatus(index);
        return status == (short)GrantStatus.Okay && faults.TryTake(ChannelFaultKind.CopyError) ? (short)GrantStatus.GeneralError : status;
    }

    public int TakePendingEvents(Span<int> ports)
    {
        SendDue();
        var n = inner.TakePendingEvents(ports);
        if (n > 0)
        {
            _lastPending = ports[n - 1];
        }

        if (n < ports.Length && faults.Armed(ChannelFaultKind.RingSpuriousNotify) && (_lastPending >= 0 || _lastNotified >= 0) && faults.TryTake(ChannelFaultKind.RingSpuriousNotify))
        {
            if (_lastPending >= 0)
            {
                ports[n++] = _lastPending; // an event the peer never sent
            }

            if (_lastNotified >= 0)
            {
                inner.Notify(_lastNotified); // and one the peer did not expect
            }
        }

        return n;
    }

    public bool PrepareToSleep()
    {
        SendDue();
        return inner.PrepareToSleep() || (faults.Armed(ChannelFaultKind.RingSpuriousNotify) && (_lastPending >= 0 || _lastNotified >= 0));
    }

    public void Notify(int port)
    {
        _lastNotified = port;
        if (faults.TryTake(ChannelFaultKind.RingDropNotify))
        {
            return; // lost: the peer must find the work without it
        }

        if (faults.TryTake(ChannelFaultKind.RingDelay))
        {
            var delay = TimeSpan.FromMilliseconds(faults.DelayMs);
            _held.Enqueue((port, Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency)));
            _timer ??= new Timer(static s => ((Doorbell)s!).Ring(), inner.Doorbell, Timeout.Infinite, Timeout.Infinite);
            _timer.Change(delay, Timeout.InfiniteTimeSpan);
            return;
        }

        SendDue();
        inner.Notify(port);
    }

    /// <summary>Sends the held-back notifications whose time has come, in order; re-arms the timer for the rest.</summary>
    private void SendDue()
    {
        var now = Stopwatch.GetTimestamp();
        while (_held.TryPeek(out var held))
        {
            if (held.DueTicks > now)
            {
                _timer?.Change(TimeSpan.FromSeconds((double)(held.DueTicks - now) / Stopwatch.Frequency), Timeout.InfiniteTimeSpan);
                return;
            }

            _held.TryDequeue(out _);
            inner.Notify(held.Port);
        }
    }
}
