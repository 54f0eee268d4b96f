using Disagg.Virtio.Device;
using Disagg.Virtio.Net;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;

namespace Disagg.Virtio.Tests;

/// <summary>virtio-net frames both ways through a port, and virtio-rng filling buffers.</summary>
public sealed class NetAndRngTests
{
    private static readonly byte[] Mac = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef];

    private static (GuestDriver Driver, VirtioNetDevice Device, FramePort Port, GuestQueue Rx, GuestQueue Tx) Net()
    {
        var port = new FramePort();
        var device = new VirtioNetDevice("virtio-net eth0", Mac, port);
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(device, ram, irq));
        var queues = d.Bringup(VirtioDeviceType.Network, 2);
        return (d, device, port, queues[VirtioNet.ReceiveQueue], queues[VirtioNet.TransmitQueue]);
    }

    private static byte[] Frame(int length)
    {
        var f = new byte[length];
        new Random(length).NextBytes(f);
        return f;
    }

    [Fact]
    public void TransmittedFrameReachesThePortWithoutItsHeader()
    {
        var (d, device, port, _, tx) = Net();
        var frame = Frame(98);
        var header = d.Alloc(12);
        var body = d.Alloc(98);
        Assert.True(d.Ram.TryWrite(body, frame));
        tx.Add((header, 12, false), (body, 98, false));
        tx.Submit();
        Assert.Equal(frame, Assert.Single(port.Sent));
        Assert.True(tx.TryTakeUsed(out _, out var len));
        Assert.Equal(0u, len);
        Assert.Equal(1, device.FramesSent);
    }

    [Fact]
    public void TransmittedRuntShorterThanAnEthernetHeaderIsDroppedNotForwarded()
    {
        var (d, device, port, _, tx) = Net();
        tx.Add((d.Alloc(12), 12, false), (d.Alloc(13), 13, false));
        tx.Submit();
        Assert.Empty(port.Sent);
        Assert.True(tx.TryTakeUsed(out _, out _));
        Assert.Equal(1, device.FramesDropped);
        Assert.Null(d.Transport.LastFault);
    }

    [Fact]
    public void DeliveredFrameLandsInTheNextReceiveBufferWithAHeaderAndAnInterrupt()
    {
        var (d, device, port, rx, _) = Net();
        Assert.Equal(DeliveryResult.NoBuffer, device.TryDeliver(Frame(60)));
        var buffer = d.Alloc(1526);
        rx.Add((buffer, 1526, true));
        rx.Submit();
        Assert.Equal(1, port.BuffersPosted);
        Assert.False(d.Wire.Asserted);

        var frame = Frame(342);
        Assert.Equal(DeliveryResult.Delivered, device.TryDeliver(frame));
        Assert.True(d.Wire.Asserted);
        Assert.True(rx.TryTakeUsed(out _, out var len));
        Assert.Equal(12u + 342, len);
        var got = new byte[12 + 342];
        Assert.True(d.Ram.TryRead(buffer, got));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, got[..12]);
        Assert.Equal(frame, got[12..]);
    }

    [Fact]
    public void FrameLargerThanTheReceiveBufferIsDroppedAndTheBufferReturnedEmpty()
    {
        var (d, device, _, rx, _) = Net();
        rx.Add((d.Alloc(100), 100, true));
        rx.Submit();
        Assert.Equal(DeliveryResult.Dropped, device.TryDeliver(Frame(200)));
        Assert.True(rx.TryTakeUsed(out _, out var len));
        Assert.Equal(0u, len);
        Assert.Equal(1, device.FramesDropped);
        Assert.Null(d.Transport.LastFault);
    }

    [Fact]
    public void TransmitBufferWithDeviceWritableDescriptorsNeedsReset()
    {
        var (d, _, port, _, tx) = Net();
        tx.Add((d.Alloc(12), 12, false), (d.Alloc(64), 64, true));
        tx.Submit();
        Assert.Empty(port.Sent);
        Assert.Equal((1, VirtioFaultReason.WrongDirection), (d.Transport.LastFault!.Queue, d.Transport.LastFault.Reason));
    }

    [Fact]
    public void ReceiveBufferWithDeviceReadableDescriptorsNeedsReset()
    {
        var (d, device, _, rx, _) = Net();
        rx.Add((d.Alloc(64), 64, false));
        rx.Submit();
        Assert.Equal(DeliveryResult.Dropped, device.TryDeliver(Frame(20)));
        Assert.Equal((0, VirtioFaultReason.WrongDirection), (d.Transport.LastFault!.Queue, d.Transport.LastFault.Reason));
        Assert.Equal(DeliveryResult.NoBuffer, device.TryDeliver(Frame(20)));
    }

    [Fact]
    public void EntropyFillsEveryWritableByteOfEachRequest()
    {
        var device = new VirtioRngDevice("virtio-rng");
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(device, ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        var a = d.Alloc(5000);
        var b = d.Alloc(7);
        q.Add((a, 5000, true), (b, 7, true));
        q.Submit();
        Assert.True(q.TryTakeUsed(out _, out var len));
        Assert.Equal(5007u, len);
        var bytes = new byte[5000];
        Assert.True(d.Ram.TryRead(a, bytes));
        Assert.True(bytes.Distinct().Count() > 200); // random, not a constant fill
        Assert.Equal(5007, device.BytesGiven);
    }

    [Fact]
    public void EntropyRequestsAreCappedAt64KiB()
    {
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("virtio-rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        q.Add((d.Alloc(1 << 20), 1 << 20, true));
        q.Submit();
        Assert.True(q.TryTakeUsed(out _, out var len));
        Assert.Equal(VirtioRngDevice.MaxBytesPerRequest, len);
    }

    [Fact]
    public void EventIdxSuppressesInterruptsUntilUsedEventIsCrossed()
    {
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("virtio-rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        Assert.NotEqual(0UL, d.Transport.NegotiatedFeatures & VirtioFeature.EventIdx);
        q.SetUsedEvent(2); // interrupt when used.idx passes 2, i.e. on the third completion
        for (var i = 0; i < 3; i++)
        {
            q.Add((d.Alloc(8), 8, true));
            q.Submit();
            Assert.Equal(i == 2, d.Wire.Asserted);
        }

        // avail_event says where the device wants the next notification: the next entry.
        Assert.Equal(3, q.AvailEvent);
    }

    [Fact]
    public void WithoutEventIdxNoInterruptFlagSuppressesInterrupts()
    {
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("virtio-rng"), ram, irq));
        var q = d.Bringup(VirtioDeviceType.Entropy, 1, refuse: VirtioFeature.EventIdx)[0];
        q.SetAvailFlags(VirtqRingHeader.AvailNoInterrupt);
        q.Add((d.Alloc(8), 8, true));
        q.Submit();
        Assert.False(d.Wire.Asserted);
        Assert.True(q.TryTakeUsed(out _, out _));
        q.SetAvailFlags(0);
        q.Add((d.Alloc(8), 8, true));
        q.Submit();
        Assert.True(d.Wire.Asserted);
    }
}
