using System.Text;

namespace Disagg.Kernel.Core.Console;

/// <summary>
/// The kernel's message log (`disagg dmesg`): a fixed-size byte ring, so a guest flooding
/// console_io cannot grow kernel memory — old text is overwritten, and a reader that fell behind
/// is told how much it missed. Guest text is prefixed per line with its domain ("(d5) ") as
/// Xen's console does; control characters other than newline and tab are replaced.
/// </summary>
public sealed class KernelMessageLog
{
    private readonly object _lock = new();
    private readonly byte[] _ring;
    private readonly Dictionary<int, bool> _midLine = [];
    private long _written;
    private long _cleared;

    public KernelMessageLog(int capacity = 1 << 20)
    {
        _ring = new byte[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>
    /// Called after every append, outside the log's lock, on the writer's thread (a vCPU's): the hypervisor
    /// forwards it to connections that watch consoles, which coalesce it (<c>ConsoleActivity</c>), so it
    /// must stay cheap. Null when nobody listens.
    /// </summary>
    public Action? Appended { get; set; }

    /// <summary>Total bytes ever written: the offset the next byte will have.</summary>
    public long End
    {
        get
        {
            lock (_lock)
            {
                return _written;
            }
        }
    }

    public void WriteKernel(string line) => Append(-1, Encoding.UTF8.GetBytes(line.EndsWith('\n') ? line : line + "\n"));

    /// <summary>Text with no prefix (a domain's own console log, where every line is that domain's).</summary>
    public void WriteRaw(ReadOnlySpan<byte> text) => Append(-1, text);

    /// <summary>Text a domain wrote (console_io write, or an SBI debug console).</summary>
    public void WriteGuest(int domainId, ReadOnlySpan<byte> text) => Append(domainId, text);

    /// <summary>
    /// `xl dmesg -c`: text before <paramref name="upTo"/> is gone for every later reader (a reader
    /// behind it resumes at the clear, and cleared text is not counted as missed). Never moves back,
    /// never past what was written.
    /// </summary>
    public void Clear(long upTo)
    {
        lock (_lock)
        {
            _cleared = Math.Max(_cleared, Math.Min(upTo, _written));
        }
    }

    /// <summary>
    /// Copies bytes from <paramref name="offset"/> into <paramref name="destination"/>. If the ring
    /// has overwritten that offset, reading starts at the oldest byte kept and
    /// <paramref name="missed"/> says how many were lost; text cleared by <see cref="Clear"/> is
    /// skipped without counting.
    /// </summary>
    public int Read(long offset, Span<byte> destination, out long nextOffset, out long missed)
    {
        lock (_lock)
        {
            var overwritten = Math.Max(0, _written - _ring.Length);
            missed = Math.Max(0, overwritten - Math.Max(offset, _cleared));
            offset = Math.Clamp(offset, Math.Max(overwritten, _cleared), _written);
            var n = (int)Math.Min(destination.Length, _written - offset);
            for (var i = 0; i < n; i++)
            {
                destination[i] = _ring[(offset + i) % _ring.Length];
            }

            nextOffset = offset + n;
            return n;
        }
    }

    private void Append(int domainId, ReadOnlySpan<byte> text)
    {
        Span<byte> prefix = stackalloc byte[16];
        var prefixLength = 0;
        if (domainId >= 0)
        {
            Encoding.ASCII.TryGetBytes($"(d{domainId}) ", prefix, out prefixLength);
        }

        lock (_lock)
        {
            var mid = _midLine.GetValueOrDefault(domainId);
            foreach (var raw in text)
            {
                if (!mid)
                {
                    foreach (var p in prefix[..prefixLength])
                    {
                        Put(p);
                    }

                    mid = true;
                }

                Put(raw is (byte)'\n' or (byte)'\t' || raw >= 0x20 ? raw : (byte)'?');
                if (raw == (byte)'\n')
                {
                    mid = false;
                }
            }

            _midLine[domainId] = mid;
        }

        Appended?.Invoke();
    }

    private void Put(byte b)
    {
        _ring[_written % _ring.Length] = b;
        _written++;
    }
}
