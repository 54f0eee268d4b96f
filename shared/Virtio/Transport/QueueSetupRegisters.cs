using Disagg.Virtio.Queue;

namespace Disagg.Virtio.Transport;

/// <summary>QueueNum and the ring address halves of the queue QueueSel names (§4.2.2).</summary>
internal static class QueueSetupRegisters
{
    /// <summary>False when the write is ignored: no such queue, or it is ready (§4.2.2.3: set up while QueueReady reads 0).</summary>
    public static bool TryWrite(Virtqueue? queue, uint offset, uint value)
    {
        if (queue is null || queue.Ready)
        {
            return false;
        }

        switch (offset)
        {
            case VirtioMmioRegister.QueueNum:
                queue.Size = (ushort)Math.Min(value, ushort.MaxValue);
                break;
            case VirtioMmioRegister.QueueDescLow:
                queue.DescTable = Low(queue.DescTable, value);
                break;
            case VirtioMmioRegister.QueueDescHigh:
                queue.DescTable = High(queue.DescTable, value);
                break;
            case VirtioMmioRegister.QueueDriverLow:
                queue.AvailRing = Low(queue.AvailRing, value);
                break;
            case VirtioMmioRegister.QueueDriverHigh:
                queue.AvailRing = High(queue.AvailRing, value);
                break;
            case VirtioMmioRegister.QueueDeviceLow:
                queue.UsedRing = Low(queue.UsedRing, value);
                break;
            case VirtioMmioRegister.QueueDeviceHigh:
                queue.UsedRing = High(queue.UsedRing, value);
                break;
            default:
                return false;
        }

        return true;
    }

    private static ulong Low(ulong current, uint value) => (current & 0xFFFF_FFFF_0000_0000UL) | value;

    private static ulong High(ulong current, uint value) => (current & 0xFFFF_FFFFUL) | ((ulong)value << 32);
}
