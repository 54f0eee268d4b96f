namespace Disagg.Virtio.Queue;

/// <summary>What a queue tells its transport: a guest protocol error, and that the guest should be interrupted.</summary>
internal interface IVirtqueueHost
{
    string DeviceName { get; }

    void QueueFaulted(VirtioFault fault);

    void UsedBufferNotification();
}
