using System.Runtime.InteropServices;

namespace Disagg.Interop;

/// <summary>
/// A blocking Stream over a stream socket (or pipe) another process handed over, by read/write/poll on the
/// descriptor itself. Not a .NET Socket on purpose: the descriptor shares its open file with the sender's own
/// (non-blocking) socket, so its O_NONBLOCK flag is left as it is, and disposing never shuts the connection
/// down (.NET disconnects a TCP socket it closes). The descriptor stays the caller's.
/// </summary>
public sealed unsafe class DescriptorStream(FileDescriptor fd, int stallMs) : Stream
{
    private const short PollOut = 4;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    /// <summary>Bytes read so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Called when a read finds nothing waiting, before it sleeps: the reader has consumed everything the peer sent
    /// so far (a migration's target says so, MigrationHandOff.CaughtUp).
    /// </summary>
    public Action? WouldBlock { get; set; }

    /// <summary>When a read last woke from waiting for data (Stopwatch ticks; 0 if it never waited): a migration's target stamps the stop round's arrival with it.</summary>
    public long WokeAt { get; private set; }

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = Libc.Read(fd.Value, p, (nuint)buffer.Length);
                if (n >= 0)
                {
                    BytesRead += n;
                    return (int)n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.Eagain)
                {
                    WouldBlock?.Invoke();
                }

                Wait(errno, Libc.PollIn, "read");
                if (errno == Libc.Eagain)
                {
                    WokeAt = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            var done = 0;
            while (done < buffer.Length)
            {
                var n = Libc.Write(fd.Value, p + done, (nuint)(buffer.Length - done));
                if (n >= 0)
                {
                    done += (int)n;
                    continue;
                }

                Wait(Marshal.GetLastPInvokeError(), PollOut, "write");
            }
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> for something to read (or the peer's end); false if nothing came.</summary>
    public bool WaitReadable(int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = fd.Value, Events = Libc.PollIn };
        return Libc.Poll(&pfd, 1, Math.Max(0, timeoutMs)) != 0; // an error: let the next read say what it is
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>EAGAIN: waits until the descriptor is ready, at most the stall bound; EINTR: again; anything else fails.</summary>
    private void Wait(int errno, short events, string what)
    {
        if (errno == Libc.Eintr)
        {
            return;
        }

        if (errno != Libc.Eagain)
        {
            throw new IOException($"{what}: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
        }

        var pfd = new Libc.PollFd { Fd = fd.Value, Events = events };
        var ready = Libc.Poll(&pfd, 1, stallMs);
        if (ready == 0)
        {
            throw new IOException($"{what}: the peer stalled for {stallMs / 1000} s");
        }
    }
}
