using System.Runtime.InteropServices;

namespace Disagg.Virtio.Net;

/// <summary>
/// struct virtio_net_hdr (virtio 1.x §5.1.6): 12 bytes before every frame in both directions; with
/// VIRTIO_F_VERSION_1 it always includes num_buffers. We offer no checksum or segmentation offload, so
/// the device writes flags 0 and gso_type NONE and ignores what a driver sends.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct VirtioNetHdr
{
    public const int Size = 12;

    [FieldOffset(0)] public byte Flags;

    [FieldOffset(1)] public byte GsoType;

    [FieldOffset(2)] public ushort HdrLen;

    [FieldOffset(4)] public ushort GsoSize;

    [FieldOffset(6)] public ushort CsumStart;

    [FieldOffset(8)] public ushort CsumOffset;

    /// <summary>Buffers this frame spans: 1 without VIRTIO_NET_F_MRG_RXBUF.</summary>
    [FieldOffset(10)] public ushort NumBuffers;
}
