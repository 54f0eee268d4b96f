using System.Runtime.InteropServices;

namespace Disagg.Interop;

/// <summary>
/// A one-shot timer with nanosecond resolution: a timerfd on CLOCK_MONOTONIC that one thread waits
/// on in a blocking read. Setting it from any thread moves the expiry of a wait already in progress
/// (the kernel re-evaluates it), and an expiry before the wait starts is kept in the fd, so there is
/// no lost wake-up and no polling. Monitor.Wait and friends round to whole milliseconds (a sub-
/// millisecond wait returns at once), which is why a precise deadline needs this.
/// </summary>
public sealed unsafe class OneShotAlarm : IDisposable
{
    private readonly FileDescriptor _fd =
        new((int)InteropException.Check(Libc.TimerfdCreate(Libc.ClockMonotonic, Libc.TfdCloexec), "timerfd_create"));

    /// <summary>Expires <paramref name="delayNs"/> from now (at least 1 ns: zero would disarm it).</summary>
    public void SetIn(long delayNs)
    {
        delayNs = Math.Max(1, delayNs);
        var spec = new Libc.ITimerSpec { Value = new Libc.TimeSpec { Seconds = delayNs / 1_000_000_000, Nanoseconds = delayNs % 1_000_000_000 } };
        InteropException.Check(Libc.TimerfdSettime(_fd.Value, 0, &spec, null), "timerfd_settime");
    }

    /// <summary>No expiry until the next <see cref="SetIn"/>.</summary>
    public void Disarm()
    {
        var spec = default(Libc.ITimerSpec);
        InteropException.Check(Libc.TimerfdSettime(_fd.Value, 0, &spec, null), "timerfd_settime");
    }

    /// <summary>Blocks until the alarm expires (returns at once if it expired since the last wait).</summary>
    public void Wait()
    {
        ulong expirations;
        while (Libc.Read(_fd.Value, &expirations, 8) != 8)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.Eintr)
            {
                throw new InteropException("read(timerfd)", errno);
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}
