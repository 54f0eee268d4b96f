using Disagg.Virtio.Memory;

namespace Disagg.Virtio.Queue;

/// <summary>
/// A descriptor chain taken from a queue, seen as two byte streams (virtio 1.x §2.7.4: device-readable
/// buffers first, then device-writable ones; VIRTIO_F_VERSION_1 implies any layout, so a device never
/// relies on where one descriptor ends). One instance per queue, reused for every chain: the hot path
/// allocates nothing.
/// </summary>
public sealed class DescriptorChain
{
    private readonly Virtqueue _queue;
    private readonly IGuestMemory _memory;
    private readonly ChainSegment[] _segments;
    private int _count;
    private int _firstWritable;
    private int _readSegment;
    private uint _readOffset;
    private uint _readTotal;
    private int _writeSegment;
    private uint _writeOffset;
    private uint _writeTotal;

    internal DescriptorChain(Virtqueue queue, IGuestMemory memory, int capacity)
    {
        _queue = queue;
        _memory = memory;
        _segments = new ChainSegment[capacity];
    }

    /// <summary>The head descriptor index: the id of the used entry.</summary>
    public ushort Head { get; private set; }

    public uint ReadableLength { get; private set; }

    public uint WritableLength { get; private set; }

    /// <summary>Readable bytes not yet consumed by <see cref="Read"/>.</summary>
    public uint ReadableRemaining => ReadableLength - _readTotal;

    /// <summary>Writable bytes not yet filled by <see cref="Write"/>/<see cref="SkipWritable"/>.</summary>
    public uint WritableRemaining => WritableLength - _writeTotal;

    /// <summary>How far into the writable stream the device has written: the used entry's len.</summary>
    public uint BytesWritten => _writeTotal;

    public int SegmentCount => _count;

    public ReadOnlySpan<ChainSegment> Segments => _segments.AsSpan(0, _count);

    internal int Capacity => _segments.Length;

    internal void Begin(ushort head)
    {
        Head = head;
        _count = 0;
        _firstWritable = -1;
        ReadableLength = 0;
        WritableLength = 0;
        _readSegment = 0;
        _readOffset = 0;
        _readTotal = 0;
        _writeSegment = 0;
        _writeOffset = 0;
        _writeTotal = 0;
    }

    /// <summary>Appends a walked buffer; false when the totals would not fit a u32 (the used ring's len).</summary>
    internal bool TryAdd(ulong address, uint length, bool writable)
    {
        if (writable)
        {
            if ((ulong)WritableLength + length > uint.MaxValue)
            {
                return false;
            }

            if (_firstWritable < 0)
            {
                _firstWritable = _count;
                _writeSegment = _count;
            }

            WritableLength += length;
        }
        else
        {
            if ((ulong)ReadableLength + length > uint.MaxValue)
            {
                return false;
            }

            ReadableLength += length;
        }

        _segments[_count++] = new ChainSegment(address, length, writable);
        return true;
    }

    /// <summary>
    /// Copies the next readable bytes into <paramref name="destination"/>; returns how many (fewer when the
    /// readable stream ends). A guest-memory failure faults the queue and returns 0.
    /// </summary>
    public int Read(Span<byte> destination)
    {
        var end = _firstWritable < 0 ? _count : _firstWritable;
        var done = 0;
        while (done < destination.Length && _readSegment < end)
        {
            var segment = _segments[_readSegment];
            var take = (int)Math.Min(segment.Length - _readOffset, (uint)(destination.Length - done));
            if (take > 0 && !_memory.TryRead(segment.Address + _readOffset, destination.Slice(done, take)))
            {
                _queue.Fail(VirtioFaultReason.OutsideRam, $"buffer 0x{segment.Address:x}+{segment.Length} became unreadable");
                return 0;
            }

            done += take;
            _readOffset += (uint)take;
            _readTotal += (uint)take;
            if (_readOffset == segment.Length)
            {
                _readSegment++;
                _readOffset = 0;
            }
        }

        return done;
    }

    /// <summary>Skips readable bytes (at most what is left).</summary>
    public void SkipReadable(uint count)
    {
        var end = _firstWritable < 0 ? _count : _firstWritable;
        while (count > 0 && _readSegment < end)
        {
            var take = Math.Min(_segments[_readSegment].Length - _readOffset, count);
            count -= take;
            _readOffset += take;
            _readTotal += take;
            if (_readOffset == _segments[_readSegment].Length)
            {
                _readSegment++;
                _readOffset = 0;
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the next writable bytes; returns how many fit. A guest-memory
    /// failure faults the queue and returns 0.
    /// </summary>
    public int Write(ReadOnlySpan<byte> source)
    {
        if (_firstWritable < 0)
        {
            return 0;
        }

        var done = 0;
        while (done < source.Length && _writeSegment < _count)
        {
            var segment = _segments[_writeSegment];
            var take = (int)Math.Min(segment.Length - _writeOffset, (uint)(source.Length - done));
            if (take > 0 && !_memory.TryWrite(segment.Address + _writeOffset, source.Slice(done, take)))
            {
                _queue.Fail(VirtioFaultReason.OutsideRam, $"buffer 0x{segment.Address:x}+{segment.Length} became unwritable");
                return 0;
            }

            done += take;
            _writeOffset += (uint)take;
            _writeTotal += (uint)take;
            if (_writeOffset == segment.Length)
            {
                _writeSegment++;
                _writeOffset = 0;
            }
        }

        return done;
    }

    /// <summary>Leaves writable bytes untouched (they count as written: the guest sees len past them).</summary>
    public void SkipWritable(uint count)
    {
        if (_firstWritable < 0)
        {
            return;
        }

        while (count > 0 && _writeSegment < _count)
        {
            var take = Math.Min(_segments[_writeSegment].Length - _writeOffset, count);
            count -= take;
            _writeOffset += take;
            _writeTotal += take;
            if (_writeOffset == _segments[_writeSegment].Length)
            {
                _writeSegment++;
                _writeOffset = 0;
            }
        }
    }
}
