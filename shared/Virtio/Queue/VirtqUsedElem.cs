using System.Runtime.InteropServices;

namespace Disagg.Virtio.Queue;

/// <summary>struct virtq_used_elem (virtio 1.x §2.7.8): one completed chain, 8 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct VirtqUsedElem
{
    public const int Size = 8;

    /// <summary>Index of the chain's head descriptor (a u32 on the wire, only 16 bits meaningful).</summary>
    [FieldOffset(0)] public uint Id;

    /// <summary>Bytes the device wrote into the chain's device-writable buffers.</summary>
    [FieldOffset(4)] public uint Len;
}
