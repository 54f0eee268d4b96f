namespace Disagg.Virtio.Queue;

/// <summary>Byte offsets inside a split virtqueue's three areas (virtio 1.x §2.7), for a queue of <c>size</c> entries.</summary>
public static class VirtqLayout
{
    /// <summary>Offset of avail.idx.</summary>
    public const int IdxOffset = 2;

    /// <summary>avail.ring[i]: u16 head descriptor index.</summary>
    public static ulong AvailEntry(int slot) => VirtqRingHeader.Size + (2UL * (uint)slot);

    /// <summary>used_event, after avail.ring[size] (only with VIRTIO_F_EVENT_IDX).</summary>
    public static ulong UsedEvent(int size) => VirtqRingHeader.Size + (2UL * (uint)size);

    /// <summary>used.ring[i]: a <see cref="VirtqUsedElem"/>.</summary>
    public static ulong UsedEntry(int slot) => VirtqRingHeader.Size + ((ulong)VirtqUsedElem.Size * (uint)slot);

    /// <summary>avail_event, after used.ring[size] (only with VIRTIO_F_EVENT_IDX).</summary>
    public static ulong AvailEvent(int size) => VirtqRingHeader.Size + ((ulong)VirtqUsedElem.Size * (uint)size);

    /// <summary>Bytes of the descriptor table, avail ring and used ring (with their event words).</summary>
    public static ulong DescTableBytes(int size) => (ulong)VirtqDesc.Size * (uint)size;

    public static ulong AvailBytes(int size) => UsedEvent(size) + 2;

    public static ulong UsedBytes(int size) => AvailEvent(size) + 2;

    /// <summary>vring_need_event (§2.7.10): does moving used.idx from <paramref name="old"/> to <paramref name="next"/> cross <paramref name="eventIdx"/>?</summary>
    public static bool NeedEvent(ushort eventIdx, ushort next, ushort old) =>
        (ushort)(next - eventIdx - 1) < (ushort)(next - old);
}
