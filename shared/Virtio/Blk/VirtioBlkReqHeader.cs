using System.Runtime.InteropServices;

namespace Disagg.Virtio.Blk;

/// <summary>
/// The device-readable head of every virtio-blk request (virtio 1.x §5.2.6, struct virtio_blk_req up to
/// its data): 16 bytes, little-endian. The data follows; the last device-writable byte is the status.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct VirtioBlkReqHeader
{
    public const int Size = 16;

    [FieldOffset(0)] public uint Type;

    /// <summary>"reserved" in virtio 1.x (ioprio in legacy); ignored.</summary>
    [FieldOffset(4)] public uint Reserved;

    /// <summary>Offset in 512-byte sectors, whatever blk_size says (§5.2.6).</summary>
    [FieldOffset(8)] public ulong Sector;
}
