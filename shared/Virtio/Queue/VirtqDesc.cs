using System.Runtime.InteropServices;

namespace Disagg.Virtio.Queue;

/// <summary>
/// struct virtq_desc (virtio 1.x §2.7.5, split virtqueue descriptor table entry), 16 bytes, little-endian.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct VirtqDesc
{
    public const int Size = 16;

    /// <summary>VIRTQ_DESC_F_NEXT: the chain continues at <see cref="Next"/>.</summary>
    public const ushort FlagNext = 1;

    /// <summary>VIRTQ_DESC_F_WRITE: the buffer is device-writable (otherwise device-readable).</summary>
    public const ushort FlagWrite = 2;

    /// <summary>VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors (§2.7.5.3).</summary>
    public const ushort FlagIndirect = 4;

    /// <summary>Guest-physical address of the buffer.</summary>
    [FieldOffset(0)] public ulong Addr;

    [FieldOffset(8)] public uint Len;

    [FieldOffset(12)] public ushort Flags;

    [FieldOffset(14)] public ushort Next;
}
