namespace Disagg.Virtio.Queue;

/// <summary>
/// A guest driver's protocol error that made a device stop (DEVICE_NEEDS_RESET): which device, which
/// queue (-1: the device as a whole), why, and the detail a human needs (indices, addresses).
/// STYLE.md's first tier: the guest gets a status, the host a counter and this record; no exception.
/// </summary>
public sealed record VirtioFault(string Device, int Queue, VirtioFaultReason Reason, string Detail)
{
    public override string ToString() =>
        Queue < 0 ? $"{Device}: {Reason}: {Detail}" : $"{Device} queue {Queue}: {Reason}: {Detail}";
}
