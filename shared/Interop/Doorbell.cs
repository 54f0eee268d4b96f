namespace Disagg.Interop;

/// <summary>
/// A cross-process notification: an eventfd. Ringing adds 1; waiting returns once it is non-zero
/// and resets it, so several rings before a wait wake it once. Passed between processes like any
/// fd. Non-blocking underneath: waits go through poll, or an <see cref="EpollReactor"/>.
/// </summary>
public sealed unsafe class Doorbell : IDisposable
{
    public Doorbell()
        : this(new FileDescriptor((int)InteropException.Check(Libc.Eventfd(0, Libc.EfdCloexec | Libc.EfdNonblock), "eventfd")))
    {
    }

    /// <summary>Wraps a received eventfd (takes ownership).</summary>
    public Doorbell(FileDescriptor fd)
    {
        Fd = fd;
    }

    public FileDescriptor Fd { get; }

    public void Ring()
    {
        ulong one = 1;
        // EAGAIN only when the counter would overflow: it is rung already, which is all we need.
        Libc.Write(Fd.Value, &one, 8);
    }

    /// <summary>Consumes a pending ring without waiting; false if none.</summary>
    public bool TryConsume()
    {
        ulong value;
        return Libc.Read(Fd.Value, &value, 8) == 8;
    }

    /// <summary>Waits for a ring (and consumes it); false on timeout. A negative timeout waits forever.</summary>
    public bool Wait(TimeSpan timeout)
    {
        var deadline = timeout < TimeSpan.Zero ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (TryConsume())
            {
                return true;
            }

            var left = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            var pfd = new Libc.PollFd { Fd = Fd.Value, Events = Libc.PollIn };
            var n = Libc.Poll(&pfd, 1, left);
            if (n == 0 && left == 0)
            {
                return TryConsume();
            }

            if (n < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Libc.Eintr)
            {
                throw new InteropException("poll(doorbell)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            }
        }
    }

    public void Dispose() => Fd.Dispose();
}
