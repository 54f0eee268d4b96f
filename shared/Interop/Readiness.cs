namespace Disagg.Interop;

/// <summary>
/// poll(2) over a few descriptors, for a loop that owns them all (a switching thread waiting on its event
/// doorbell, a wake-up doorbell and TAP devices at once). Allocates nothing for up to 16 descriptors.
/// </summary>
public static unsafe class Readiness
{
    public const int MaxDescriptors = 16;

    /// <summary>Waits until one of <paramref name="fds"/> is readable or <paramref name="timeoutMs"/> passes (negative: forever). True if one is.</summary>
    public static bool WaitAny(ReadOnlySpan<int> fds, int timeoutMs)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxDescriptors);
        var set = stackalloc Libc.PollFd[MaxDescriptors];
        for (var i = 0; i < fds.Length; i++)
        {
            set[i] = new Libc.PollFd { Fd = fds[i], Events = Libc.PollIn };
        }

        var n = Libc.Poll(set, (nuint)fds.Length, timeoutMs);
        if (n < 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            return errno == Libc.Eintr ? false : throw new InteropException("poll", errno);
        }

        return n > 0;
    }
}
