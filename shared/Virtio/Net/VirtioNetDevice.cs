using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Disagg.Virtio.Device;
using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Net;

/// <summary>
/// virtio-net (virtio 1.x §5.1) with one receive and one transmit queue, the MAC and link status in its
/// configuration, no offloads and no mergeable receive buffers: a frame is one chain either way. Frames
/// leave through an <see cref="IVirtioNetPort"/> and arrive through <see cref="TryDeliver"/>.
/// </summary>
public sealed class VirtioNetDevice : IVirtioDevice
{
    public const ushort QueueSize = 256;

    private readonly IVirtioNetPort _port;
    private readonly byte[] _config = new byte[VirtioNet.ConfigSize];
    private readonly byte[] _frame = GC.AllocateUninitializedArray<byte>(VirtioNet.MaxFrame);
    private IVirtioDeviceHost? _host;

    public VirtioNetDevice(string name, ReadOnlySpan<byte> mac, IVirtioNetPort port)
    {
        if (mac.Length != 6)
        {
            throw new ArgumentException($"{name}: a MAC address has 6 bytes, not {mac.Length}", nameof(mac));
        }

        Name = name;
        _port = port;
        mac.CopyTo(_config.AsSpan(VirtioNet.ConfigMac));
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(VirtioNet.ConfigStatus), VirtioNet.StatusLinkUp);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(8), 1);
    }

    public string Name { get; }

    public VirtioDeviceType Type => VirtioDeviceType.Network;

    public ulong Features => VirtioNet.FeatureMac | VirtioNet.FeatureStatus;

    public int QueueCount => 2;

    public int ConfigSize => _config.Length;

    public long FramesSent { get; private set; }

    public long FramesReceived { get; private set; }

    /// <summary>Frames the guest sent shorter than an Ethernet header or too large, and frames for it larger than its buffer.</summary>
    public long FramesDropped { get; private set; }

    public bool LinkUp => (BinaryPrimitives.ReadUInt16LittleEndian(_config.AsSpan(VirtioNet.ConfigStatus)) & VirtioNet.StatusLinkUp) != 0;

    public ushort MaxQueueSize(int queue) => QueueSize;

    public void ReadConfig(int offset, Span<byte> destination) => _config.AsSpan(offset, destination.Length).CopyTo(destination);

    public void WriteConfig(int offset, ReadOnlySpan<byte> source)
    {
        // mac is writable only with VIRTIO_NET_F_CTRL_MAC_ADDR's legacy path, which we do not offer.
    }

    public void Attach(IVirtioDeviceHost host) => _host = host;

    public void FeaturesAccepted(ulong features)
    {
    }

    public void Reset()
    {
    }

    /// <summary>Link up or down (a cable pulled): the guest gets a configuration change.</summary>
    public void SetLink(bool up)
    {
        if (up == LinkUp)
        {
            return;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(VirtioNet.ConfigStatus), up ? VirtioNet.StatusLinkUp : (ushort)0);
        _host?.ConfigChanged();
    }

    public void QueueNotified(Virtqueue queue)
    {
        if (queue.Index == VirtioNet.ReceiveQueue)
        {
            _port.ReceiveBuffersPosted();
            return;
        }

        while (queue.TryPop(out var chain))
        {
            Transmit(queue, chain);
            queue.Push(chain);
        }
    }

    /// <summary>Hands <paramref name="frame"/> (Ethernet header first) to the guest in its next receive buffer, and interrupts it.</summary>
    public DeliveryResult TryDeliver(ReadOnlySpan<byte> frame)
    {
        if (_host is null)
        {
            return DeliveryResult.NoBuffer;
        }

        var queue = _host.Queue(VirtioNet.ReceiveQueue);
        if (!queue.TryPop(out var chain))
        {
            return DeliveryResult.NoBuffer;
        }

        var result = Receive(queue, chain, frame);
        queue.Push(chain);
        queue.FinishBatch();
        return result;
    }

    private DeliveryResult Receive(Virtqueue queue, DescriptorChain chain, ReadOnlySpan<byte> frame)
    {
        if (chain.ReadableLength != 0)
        {
            queue.Fail(VirtioFaultReason.WrongDirection, $"receive buffer {chain.Head} has {chain.ReadableLength} device-readable bytes");
            return DeliveryResult.Dropped;
        }

        if (frame.Length > VirtioNet.MaxFrame || chain.WritableLength < (uint)(VirtioNetHdr.Size + frame.Length))
        {
            // The buffer goes back empty (len 0: Linux counts a length error and reposts it).
            FramesDropped++;
            return DeliveryResult.Dropped;
        }

        var header = new VirtioNetHdr { NumBuffers = 1 };
        Span<byte> raw = stackalloc byte[VirtioNetHdr.Size];
        MemoryMarshal.Write(raw, in header);
        chain.Write(raw);
        chain.Write(frame);
        FramesReceived++;
        return DeliveryResult.Delivered;
    }

    private void Transmit(Virtqueue queue, DescriptorChain chain)
    {
        if (chain.WritableLength != 0)
        {
            queue.Fail(VirtioFaultReason.WrongDirection, $"transmit buffer {chain.Head} has {chain.WritableLength} device-writable bytes");
            return;
        }

        if (chain.ReadableLength < VirtioNetHdr.Size)
        {
            queue.Fail(VirtioFaultReason.MalformedRequest, $"transmit buffer {chain.Head} of {chain.ReadableLength} bytes is shorter than virtio_net_hdr");
            return;
        }

        chain.SkipReadable(VirtioNetHdr.Size);
        var length = chain.ReadableRemaining;
        if (length < VirtioNet.MinFrame || length > VirtioNet.MaxFrame)
        {
            FramesDropped++;
            return;
        }

        var frame = _frame.AsSpan(0, (int)length);
        if (chain.Read(frame) != frame.Length)
        {
            return;
        }

        FramesSent++;
        _port.Transmit(frame);
    }
}
