using Disagg.Virtio.Device;
using Disagg.Virtio.Queue;
using Disagg.Virtio.Rng;
using Disagg.Virtio.Tests.Driver;
using Disagg.Virtio.Transport;
using R = Disagg.Virtio.Transport.VirtioMmioRegister;

namespace Disagg.Virtio.Tests;

/// <summary>
/// Every chain rule a hostile driver can break: the device names itself, the queue and the reason, sets
/// DEVICE_NEEDS_RESET with a configuration interrupt, touches nothing more, and serves again after a reset.
/// </summary>
public sealed class HostileQueueTests
{
    private sealed class Observer : IVirtioTransportObserver
    {
        public List<VirtioFault> Faults { get; } = [];

        public int StateChanges { get; private set; }

        public void StateChanged() => StateChanges++;

        public void Faulted(VirtioFault fault) => Faults.Add(fault);
    }

    public static TheoryData<string> Cases => new()
    {
        "loop", "self-loop", "head-out-of-range", "next-out-of-range", "buffer-outside-ram", "length-wraps",
        "readable-after-writable", "indirect-not-negotiated", "indirect-with-next", "indirect-nested",
        "indirect-bad-length", "indirect-too-long", "indirect-outside-ram", "avail-jump", "rings-outside-ram", "readable-to-rng",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadChainNeedsResetNamingDeviceQueueAndReason(string name)
    {
        var observer = new Observer();
        var d = new GuestDriver((ram, irq) => new VirtioMmioTransport(new VirtioRngDevice("virtio-rng hwrng0"), ram, irq, observer));
        var refuse = name == "indirect-not-negotiated" ? VirtioFeature.IndirectDesc : 0;
        var q = d.Bringup(VirtioDeviceType.Entropy, 1, refuse)[0];
        var buf = d.Alloc(64);
        var expected = Build(name, d, q, buf);
        var before = d.Ram.Bytes.ToArray();
        q.Kick();

        var fault = Assert.Single(observer.Faults);
        Assert.Equal(("virtio-rng hwrng0", 0, expected), (fault.Device, fault.Queue, fault.Reason));
        Assert.StartsWith("virtio-rng hwrng0 queue 0: ", fault.ToString());
        Assert.Same(fault, d.Transport.LastFault);
        Assert.Equal(1, d.Transport.FaultCount);
        Assert.NotEqual(0u, d.Read(R.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        Assert.Equal(R.InterruptConfigChange, d.Read(R.InterruptStatus) & R.InterruptConfigChange);
        Assert.True(d.Wire.Asserted);
        Assert.Equal(before, d.Ram.Bytes.ToArray()); // nothing written: neither buffers nor the used ring

        // The driver cannot clear NEEDS_RESET by writing status; further kicks do nothing.
        d.Write(R.Status, d.Read(R.Status) & ~(uint)DeviceStatus.DeviceNeedsReset);
        Assert.NotEqual(0u, d.Read(R.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        q.Kick();
        Assert.Single(observer.Faults);

        // Reset and a fresh set-up serve again.
        var again = d.Bringup(VirtioDeviceType.Entropy, 1)[0];
        Assert.Equal(0u, d.Read(R.Status) & (uint)DeviceStatus.DeviceNeedsReset);
        again.Add((d.Alloc(32), 32, true));
        again.Submit();
        Assert.True(again.TryTakeUsed(out _, out var len));
        Assert.Equal(32u, len);
    }

    private static VirtioFaultReason Build(string name, GuestDriver d, GuestQueue q, ulong buf)
    {
        const ushort N = VirtqDesc.FlagNext, W = VirtqDesc.FlagWrite, I = VirtqDesc.FlagIndirect;
        switch (name)
        {
            case "loop":
                q.WriteDesc(q.Desc, 0, buf, 8, N | W, 1);
                q.WriteDesc(q.Desc, 1, buf + 8, 8, N | W, 2);
                q.WriteDesc(q.Desc, 2, buf + 16, 8, N | W, 0);
                return Avail(q, 0, VirtioFaultReason.ChainLoop);
            case "self-loop":
                q.WriteDesc(q.Desc, 5, buf, 8, N | W, 5);
                return Avail(q, 5, VirtioFaultReason.ChainLoop);
            case "head-out-of-range":
                return Avail(q, (ushort)(q.Size + 3), VirtioFaultReason.DescriptorIndexOutOfRange);
            case "next-out-of-range":
                q.WriteDesc(q.Desc, 0, buf, 8, N | W, 0xffff);
                return Avail(q, 0, VirtioFaultReason.DescriptorIndexOutOfRange);
            case "buffer-outside-ram":
                q.WriteDesc(q.Desc, 0, 0x1000, 8, W, 0);
                return Avail(q, 0, VirtioFaultReason.OutsideRam);
            case "length-wraps":
                q.WriteDesc(q.Desc, 0, ulong.MaxValue - 10, 100, W, 0);
                return Avail(q, 0, VirtioFaultReason.LengthOverflow);
            case "readable-after-writable":
                q.WriteDesc(q.Desc, 0, buf, 8, N | W, 1);
                q.WriteDesc(q.Desc, 1, buf + 8, 8, 0, 0);
                return Avail(q, 0, VirtioFaultReason.WrongDirection);
            case "readable-to-rng":
                q.WriteDesc(q.Desc, 0, buf, 8, 0, 0);
                return Avail(q, 0, VirtioFaultReason.WrongDirection);
            case "indirect-not-negotiated":
                return Indirect(d, q, buf, I, 16, VirtioFaultReason.BadIndirect);
            case "indirect-with-next":
                return Indirect(d, q, buf, I | N, 16, VirtioFaultReason.BadIndirect);
            case "indirect-bad-length":
                return Indirect(d, q, buf, I, 17, VirtioFaultReason.BadIndirect);
            case "indirect-too-long":
                return Indirect(d, q, buf, I, (Virtqueue.MaxIndirectEntries + 1) * 16, VirtioFaultReason.BadIndirect);
            case "indirect-nested":
            {
                var table = d.Alloc(32);
                q.WriteDesc(table, 0, table, 32, I, 0);
                q.WriteDesc(q.Desc, 0, table, 32, I, 0);
                return Avail(q, 0, VirtioFaultReason.BadIndirect);
            }

            case "indirect-outside-ram":
                q.WriteDesc(q.Desc, 0, 0x2000, 32, I, 0);
                return Avail(q, 0, VirtioFaultReason.OutsideRam);
            case "avail-jump":
                q.WriteDesc(q.Desc, 0, buf, 8, W, 0);
                q.MakeAvailable(0);
                q.PublishRaw((ushort)(q.Size + 5));
                return VirtioFaultReason.AvailIndexJump;
            case "rings-outside-ram":
            {
                // A queue whose descriptor table lies outside RAM: found when the first chain is walked.
                d.Write(R.QueueSel, 0);
                d.Write(R.QueueReady, 0);
                d.Write(R.QueueDescLow, 0x10_0000);
                d.Write(R.QueueDescHigh, 0);
                d.Write(R.QueueReady, 1);
                return Avail(q, 0, VirtioFaultReason.OutsideRam);
            }

            default:
                throw new ArgumentException(name);
        }
    }

    private static VirtioFaultReason Indirect(GuestDriver d, GuestQueue q, ulong buf, ushort flags, uint length, VirtioFaultReason reason)
    {
        var table = d.Alloc(Math.Max(length, 16));
        q.WriteDesc(table, 0, buf, 8, VirtqDesc.FlagWrite, 0);
        q.WriteDesc(q.Desc, 0, table, length, flags, 1);
        q.WriteDesc(q.Desc, 1, buf, 8, VirtqDesc.FlagWrite, 0);
        return Avail(q, 0, reason);
    }

    private static VirtioFaultReason Avail(GuestQueue q, ushort head, VirtioFaultReason reason)
    {
        q.MakeAvailable(head);
        q.Publish();
        return reason;
    }
}
