using System.Runtime.InteropServices;

namespace Disagg.Virtio.Queue;

/// <summary>
/// The head shared by struct virtq_avail and struct virtq_used (virtio 1.x §2.7.6, §2.7.8): u16 flags,
/// u16 idx, then the ring. <see cref="VirtqLayout"/> gives the offsets of the ring entries and of the
/// trailing used_event / avail_event words.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct VirtqRingHeader
{
    public const int Size = 4;

    /// <summary>VIRTQ_AVAIL_F_NO_INTERRUPT in the avail ring (without EVENT_IDX): do not interrupt.</summary>
    public const ushort AvailNoInterrupt = 1;

    [FieldOffset(0)] public ushort Flags;

    /// <summary>Free-running index of the next ring entry the writer will fill (mod 2^16).</summary>
    [FieldOffset(2)] public ushort Idx;
}
