using System.Buffers.Binary;

namespace Disagg.Control;

/// <summary>
/// The receive side of a stream of length-prefixed frames (a little-endian u32 payload length, then the
/// payload), as both the kernel's control socket and the daemon's socket carry: the bytes not yet decoded, and
/// room for the next read, grown only as far as a partial frame needs (never past the frame limit).
/// </summary>
public sealed class FrameBuffer(int initialBytes)
{
    public const int HeaderSize = 4;

    private byte[] _buffer = new byte[initialBytes];
    private int _start;
    private int _end;

    /// <summary>Received bytes not yet consumed.</summary>
    public ReadOnlySpan<byte> Unread => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Where the next read goes (call <see cref="MakeRoom"/> first).</summary>
    public Span<byte> FreeSpan => _buffer.AsSpan(_end);

    /// <inheritdoc cref="FreeSpan"/>
    public Memory<byte> FreeMemory => _buffer.AsMemory(_end);

    /// <summary>A decoded frame's bytes are done with.</summary>
    public void Consume(int bytes) => _start += bytes;

    /// <summary><paramref name="bytes"/> were read into <see cref="FreeSpan"/>.</summary>
    public void Commit(int bytes) => _end += bytes;

    /// <summary>Moves unread bytes to the front and grows the buffer when a partial frame needs it (never past <paramref name="maxFrame"/>).</summary>
    public void MakeRoom(int maxFrame)
    {
        var pending = _end - _start;
        var need = HeaderSize;
        if (pending >= HeaderSize)
        {
            need += (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start)), (uint)maxFrame);
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _start = 0;
            _end = pending;
        }

        if (need > _buffer.Length || _end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(need, _buffer.Length * 2));
        }
    }
}
