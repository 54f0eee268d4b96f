using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Sched;

namespace Disagg.Kernel.Core.Ioreq;

/// <summary>
/// How long a live device model may leave a vCPU waiting on an ioreq (issue 13: "a device model that never
/// answers: the vCPU is not stuck for good"). Past <see cref="Timeout"/> the domain is crashed, as Xen crashes a
/// domain whose ioreq server broke the protocol. Only a device model that is there and silent counts: while the
/// vCPU's port is unbound (the device model died and its supervisor is starting another, which will take the
/// request from the slot) or the domain is paused (a save stops qemu-dm), the wait starts over, so a restart or a
/// save never crashes a guest however long it takes.
/// <para>
/// Costs the ioreq path a clock read and a store per request, no timer per request: one kernel timer per domain,
/// armed by the first request issued while it is not armed, firing at the oldest wait's deadline and re-armed from
/// there while requests are outstanding (at most once per <see cref="Timeout"/> for a domain doing steady I/O).
/// </para>
/// </summary>
internal sealed class IoreqWatchdog : ITimerTarget
{
    private readonly IoreqServer _server;
    private readonly TimerQueue _timers;
    private readonly KernelTimer _timer;
    private readonly long[] _since;
    private readonly object?[] _binding;
    private int _armed;

    public IoreqWatchdog(IoreqServer server, TimerQueue timers, int vcpus, TimeSpan timeout)
    {
        _server = server;
        _timers = timers;
        _timer = new KernelTimer(this);
        _since = new long[vcpus];
        _binding = new object?[vcpus];
        Timeout = timeout;
        TimeoutNs = (long)timeout.TotalNanoseconds;
    }

    public TimeSpan Timeout { get; }

    private long TimeoutNs { get; }

    /// <summary>
    /// The vCPU's request is in its slot from now on, <paramref name="binding"/> the device model process that holds its
    /// port (null: none). Hot path: a clock read, two stores, a flag read.
    /// </summary>
    public void Issued(int vcpu, object? binding)
    {
        var now = MonotonicClock.Instance.NowNs;
        Volatile.Write(ref _binding[vcpu], binding);
        Volatile.Write(ref _since[vcpu], now == 0 ? 1 : now);
        if (Volatile.Read(ref _armed) == 0 && Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            _timers.Arm(_timer, now + TimeoutNs);
        }
    }

    /// <summary>The vCPU took its answer.</summary>
    public void Answered(int vcpu) => Volatile.Write(ref _since[vcpu], 0);

    /// <summary>The domain is going away: no more checks.</summary>
    public void Stop()
    {
        Volatile.Write(ref _armed, 1); // never armed again
        _timers.Cancel(_timer);
    }

    /// <summary>On the kernel's timer thread: crash for a wait past the timeout, else re-arm for the oldest one.</summary>
    public void OnTimer(long deadlineNs)
    {
        var now = MonotonicClock.Instance.NowNs;
        var oldest = long.MaxValue;
        var state = _server.DomainState;
        if (state is DomainState.Shutdown or DomainState.Crashed or DomainState.Dying)
        {
            Volatile.Write(ref _armed, 0); // its vCPUs do not run; a resumed one (suspend) arms again when it issues
            return;
        }

        var held = state == DomainState.Paused;
        for (var v = 0; v < _since.Length; v++)
        {
            var since = Volatile.Read(ref _since[v]);
            if (since == 0)
            {
                continue;
            }

            var binding = _server.DeviceModelBinding(v);
            if (held || binding is null || !Equals(binding, Volatile.Read(ref _binding[v])))
            {
                // Nobody to answer, the domain paused, or a new device model process since the wait began: the wait
                // starts over (unless answered meanwhile).
                Volatile.Write(ref _binding[v], binding);
                since = Interlocked.CompareExchange(ref _since[v], now, since) == since ? now : Volatile.Read(ref _since[v]);
            }
            else if (now - since >= TimeoutNs && Volatile.Read(ref _since[v]) == since)
            {
                // (Looked at again last: an answer taken just now ends the wait, and the domain lives.)
                _server.Expire(v, TimeSpan.FromTicks((now - since) / 100));
                return; // crashed: the domain's vCPUs are paused for good, nothing more to watch
            }

            if (since != 0)
            {
                oldest = Math.Min(oldest, since);
            }
        }

        if (oldest != long.MaxValue)
        {
            _timers.Arm(_timer, oldest + TimeoutNs);
            return;
        }

        // Nothing outstanding: disarm, then look once more, so a request issued in between is not left unwatched.
        Volatile.Write(ref _armed, 0);
        for (var v = 0; v < _since.Length; v++)
        {
            if (Volatile.Read(ref _since[v]) != 0 && Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
            {
                _timers.Arm(_timer, now + TimeoutNs);
                return;
            }
        }
    }
}
