namespace Disagg.Xenstored.Core;

/// <summary>
/// Bytes of whole xs_wire messages waiting to go to one client, in order, with the number of
/// messages not yet fully sent (a guest's "outstanding requests" quota counts those). One growable
/// buffer per connection, reused for the connection's life: no allocation per reply.
/// </summary>
public sealed class OutputQueue
{
    private readonly Queue<long> _messageEnds = new();
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private long _consumedTotal;

    public int PendingBytes => _end - _start;

    public int PendingMessages => _messageEnds.Count;

    public ReadOnlySpan<byte> Pending => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Space for one message of <paramref name="length"/> bytes; call <see cref="CommitMessage"/> after filling it.</summary>
    public Span<byte> Reserve(int length)
    {
        if (_end + length > _buffer.Length)
        {
            var live = _end - _start;
            if (live + length <= _buffer.Length && _start > 0)
            {
                _buffer.AsSpan(_start, live).CopyTo(_buffer);
            }
            else
            {
                var bigger = new byte[Math.Max(_buffer.Length * 2, live + length)];
                _buffer.AsSpan(_start, live).CopyTo(bigger);
                _buffer = bigger;
            }

            _start = 0;
            _end = live;
        }

        return _buffer.AsSpan(_end, length);
    }

    public void CommitMessage(int length)
    {
        _end += length;
        _messageEnds.Enqueue(_consumedTotal + (_end - _start));
    }

    public void Consume(int bytes)
    {
        _start += bytes;
        _consumedTotal += bytes;
        while (_messageEnds.Count > 0 && _messageEnds.Peek() <= _consumedTotal)
        {
            _messageEnds.Dequeue();
        }

        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    public void Clear()
    {
        Consume(_end - _start);
    }
}
