namespace Disagg.Kernel.Core.Console;

/// <summary>
/// Keystrokes for a domain's SBI console (legacy getchar, DBCN read): what an unmodified guest reads
/// before it has a console driver of its own. The control domain writes, the guest's vCPUs read. Bounded:
/// input past <see cref="Capacity"/> is refused (the writer learns how much was taken), never dropped
/// silently. Not a hot path (one request per keystroke batch), so a lock keeps it simple.
/// </summary>
public sealed class ConsoleInput
{
    public const int Capacity = 4096;

    private readonly byte[] _bytes = new byte[Capacity];
    private int _head;
    private int _count;

    public int Count
    {
        get
        {
            lock (_bytes)
            {
                return _count;
            }
        }
    }

    /// <summary>Queues what fits; returns how many bytes were taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        lock (_bytes)
        {
            var n = Math.Min(data.Length, Capacity - _count);
            for (var i = 0; i < n; i++)
            {
                _bytes[(_head + _count + i) % Capacity] = data[i];
            }

            _count += n;
            return n;
        }
    }

    /// <summary>Hands up to <paramref name="into"/>'s length of queued input to <paramref name="deliver"/>; only what it accepts leaves the queue.</summary>
    public int Read(Span<byte> into, Func<ReadOnlySpan<byte>, bool> deliver)
    {
        lock (_bytes)
        {
            var n = Math.Min(into.Length, _count);
            for (var i = 0; i < n; i++)
            {
                into[i] = _bytes[(_head + i) % Capacity];
            }

            if (n == 0 || !deliver(into[..n]))
            {
                return n == 0 ? 0 : -1;
            }

            _head = (_head + n) % Capacity;
            _count -= n;
            return n;
        }
    }

    /// <summary>One byte, or -1 when there is none (legacy getchar's answer).</summary>
    public int ReadByte()
    {
        lock (_bytes)
        {
            if (_count == 0)
            {
                return -1;
            }

            var b = _bytes[_head];
            _head = (_head + 1) % Capacity;
            _count--;
            return b;
        }
    }
}
