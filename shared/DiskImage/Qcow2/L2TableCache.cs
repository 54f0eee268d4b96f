using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// The L2 tables in use, decoded to host order, bounded in number. Metadata is written
/// through (every change goes to the file before the caller continues), so evicting a table
/// is just forgetting it; that is what lets a SIGKILL at any moment lose nothing we claimed
/// was written. Callers hold the image's metadata lock.
/// </summary>
internal sealed class L2TableCache
{
    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly int _entries;
    private readonly long[] _offsets;
    private readonly ulong[][] _tables;
    private readonly long[] _lastUse;
    private long _clock;

    public L2TableCache(SafeFileHandle file, string path, Qcow2Geometry geometry, int capacity)
    {
        _file = file;
        _path = path;
        _entries = geometry.L2Entries;
        _offsets = new long[capacity];
        _tables = new ulong[capacity][];
        _lastUse = new long[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _tables[i] = new ulong[_entries];
        }
    }

    /// <summary>The table at <paramref name="l2Offset"/>, read from the file if not cached.</summary>
    public ulong[] Get(long l2Offset)
    {
        var slot = Find(l2Offset);
        if (slot < 0)
        {
            slot = Victim();
            _offsets[slot] = 0; // not valid until fully loaded: a failed read must not leave a half table
            Load(l2Offset, _tables[slot]);
            _offsets[slot] = l2Offset;
        }

        _lastUse[slot] = ++_clock;
        return _tables[slot];
    }

    /// <summary>Writes one entry through to the file, then to the cached table.</summary>
    public void SetEntry(long l2Offset, int index, ulong entry)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, entry);
        ImageFile.WriteAt(_file, _path, bytes, l2Offset + (index * 8L));
        Get(l2Offset)[index] = entry;
    }

    /// <summary>Writes a whole new table (all zeros but <paramref name="index"/>) to a freshly allocated cluster.</summary>
    public void WriteNew(long l2Offset, int index, ulong entry)
    {
        var slot = Victim();
        var table = _tables[slot];
        Array.Clear(table);
        table[index] = entry;
        var bytes = ArrayPool<byte>.Shared.Rent(_entries * 8);
        try
        {
            var span = bytes.AsSpan(0, _entries * 8);
            span.Clear();
            BinaryPrimitives.WriteUInt64BigEndian(span[(index * 8)..], entry);
            _offsets[slot] = 0;
            ImageFile.WriteAt(_file, _path, span, l2Offset);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }

        _offsets[slot] = l2Offset;
        _lastUse[slot] = ++_clock;
    }

    private int Find(long l2Offset)
    {
        for (var i = 0; i < _offsets.Length; i++)
        {
            if (_offsets[i] == l2Offset)
            {
                return i;
            }
        }

        return -1;
    }

    private int Victim()
    {
        var victim = 0;
        for (var i = 0; i < _offsets.Length; i++)
        {
            if (_offsets[i] == 0)
            {
                return i;
            }

            if (_lastUse[i] < _lastUse[victim])
            {
                victim = i;
            }
        }

        return victim;
    }

    private void Load(long l2Offset, ulong[] table)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(_entries * 8);
        try
        {
            var span = bytes.AsSpan(0, _entries * 8);
            ImageFile.ReadAt(_file, _path, span, l2Offset);
            for (var i = 0; i < _entries; i++)
            {
                table[i] = BinaryPrimitives.ReadUInt64BigEndian(span[(i * 8)..]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
