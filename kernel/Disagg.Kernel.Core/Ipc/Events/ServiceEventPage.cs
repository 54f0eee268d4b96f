namespace Disagg.Kernel.Core.Ipc.Events;

/// <summary>
/// The page a service domain shares with the kernel for its events (wire layout, pinned by a test):
/// the pending bitmap at 0 (a bit per port, little-endian 64-bit words; the kernel sets bits, the
/// service takes whole words with an atomic exchange) and at 2048 a u32 "sleeping" flag the service
/// sets before it waits on its doorbell; the kernel clears it and rings the doorbell once.
/// </summary>
public static class ServiceEventPage
{
    public const int PendingOffset = 0;
    public const int PendingBytes = EventChannelTable.MaxPorts / 8;
    public const int SleepingOffset = 2048;
    public const int Size = 4096;
}
