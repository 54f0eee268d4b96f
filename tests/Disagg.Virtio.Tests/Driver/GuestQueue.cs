using System.Buffers.Binary;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Tests.Driver;

/// <summary>
/// The driver side of one split virtqueue in guest RAM, written the way Linux's virtio_ring.c fills it:
/// descriptors chained through NEXT (or one indirect table), the head in avail.ring, then avail.idx.
/// </summary>
internal sealed class GuestQueue
{
    private readonly RamGuestMemory _ram;
    private GuestDriver _driver;
    private readonly Stack<ushort> _free = new();
    private ushort _lastUsed;

    public GuestQueue(GuestDriver driver, RamGuestMemory ram, int index, ushort size, ulong desc, ulong avail, ulong used)
    {
        _driver = driver;
        _ram = ram;
        Index = index;
        Size = size;
        Desc = desc;
        Avail = avail;
        Used = used;
        for (var i = size - 1; i >= 0; i--)
        {
            _free.Push((ushort)i);
        }
    }

    public int Index { get; }

    /// <summary>The same rings and driver-side state, now talking to another device model (after a restart).</summary>
    public GuestQueue Rebind(GuestDriver driver)
    {
        _driver = driver;
        return this;
    }

    public ushort Size { get; }

    public ulong Desc { get; }

    public ulong Avail { get; }

    public ulong Used { get; }

    public ushort AvailIdx { get; private set; }

    public ushort UsedIdxInRam => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(Used + 2, 2));

    /// <summary>Chains a descriptor per buffer and makes the head available (not yet published).</summary>
    public ushort Add(params (ulong Address, uint Length, bool Write)[] buffers)
    {
        var indices = new ushort[buffers.Length];
        for (var i = 0; i < buffers.Length; i++)
        {
            indices[i] = _free.Pop();
        }

        for (var i = 0; i < buffers.Length; i++)
        {
            var flags = (ushort)((buffers[i].Write ? VirtqDesc.FlagWrite : 0) | (i + 1 < buffers.Length ? VirtqDesc.FlagNext : 0));
            WriteDesc(Desc, indices[i], buffers[i].Address, buffers[i].Length, flags, i + 1 < buffers.Length ? indices[i + 1] : (ushort)0);
        }

        MakeAvailable(indices[0]);
        return indices[0];
    }

    /// <summary>One descriptor pointing at an indirect table holding the buffers (VIRTIO_F_INDIRECT_DESC).</summary>
    public ushort AddIndirect(params (ulong Address, uint Length, bool Write)[] buffers)
    {
        var table = _driver.Alloc((uint)(buffers.Length * VirtqDesc.Size), 16);
        for (var i = 0; i < buffers.Length; i++)
        {
            var flags = (ushort)((buffers[i].Write ? VirtqDesc.FlagWrite : 0) | (i + 1 < buffers.Length ? VirtqDesc.FlagNext : 0));
            WriteDesc(table, (ushort)i, buffers[i].Address, buffers[i].Length, flags, (ushort)(i + 1));
        }

        var head = _free.Pop();
        WriteDesc(Desc, head, table, (uint)(buffers.Length * VirtqDesc.Size), VirtqDesc.FlagIndirect, 0);
        MakeAvailable(head);
        return head;
    }

    public void WriteDesc(ulong table, ushort index, ulong address, uint length, ushort flags, ushort next)
    {
        var d = Bytes(table + (ulong)(index * VirtqDesc.Size), VirtqDesc.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(d, address);
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], next);
    }

    /// <summary>Puts <paramref name="head"/> in the next avail slot (unpublished).</summary>
    public void MakeAvailable(ushort head)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes(Avail + VirtqLayout.AvailEntry(AvailIdx & (Size - 1)), 2), head);
        AvailIdx++;
    }

    /// <summary>virtqueue_kick_prepare's publish: avail.idx.</summary>
    public void Publish() => BinaryPrimitives.WriteUInt16LittleEndian(Bytes(Avail + 2, 2), AvailIdx);

    /// <summary>Sets avail.idx to anything (hostile drivers).</summary>
    public void PublishRaw(ushort idx) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes(Avail + 2, 2), idx);

    public void SetUsedEvent(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes(Avail + VirtqLayout.UsedEvent(Size), 2), value);

    public void SetAvailFlags(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes(Avail, 2), value);

    public ushort AvailEvent => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(Used + VirtqLayout.AvailEvent(Size), 2));

    public void Kick() => _driver.Write(Transport.VirtioMmioRegister.QueueNotify, (uint)Index);

    /// <summary>Publishes and notifies.</summary>
    public void Submit()
    {
        Publish();
        Kick();
    }

    /// <summary>virtqueue_get_buf: the next used entry, if the device published one; frees its descriptors.</summary>
    public bool TryTakeUsed(out ushort id, out uint length)
    {
        id = 0;
        length = 0;
        if (UsedIdxInRam == _lastUsed)
        {
            return false;
        }

        var e = Bytes(Used + VirtqLayout.UsedEntry(_lastUsed & (Size - 1)), VirtqUsedElem.Size);
        id = (ushort)BinaryPrimitives.ReadUInt32LittleEndian(e);
        length = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
        _lastUsed++;
        FreeChain(id);
        return true;
    }

    private void FreeChain(ushort head)
    {
        var index = head;
        while (true)
        {
            _free.Push(index);
            var d = Bytes(Desc + (ulong)(index * VirtqDesc.Size), VirtqDesc.Size);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(d[12..]);
            if ((flags & VirtqDesc.FlagNext) == 0)
            {
                return;
            }

            index = BinaryPrimitives.ReadUInt16LittleEndian(d[14..]);
        }
    }

    private Span<byte> Bytes(ulong address, int length)
    {
        Assert.True(_ram.TryOffset(address, (ulong)length, out var offset));
        return _ram.Bytes.Slice(offset, length);
    }
}
