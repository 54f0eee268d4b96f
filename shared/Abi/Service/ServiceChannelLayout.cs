namespace Disagg.Abi.Service;

/// <summary>
/// The page a service domain shares with the kernel for its events (wire layout, pinned by a test):
/// the pending bitmap at 0 (a bit per port, little-endian 64-bit words; the kernel sets bits, the
/// service takes whole words with an atomic exchange) and at 2048 a u32 "sleeping" flag the service
/// sets before it waits on its doorbell; the kernel clears it and rings the doorbell once.
/// </summary>
public static class ServiceEventPage
{
    public const int PendingOffset = 0;
    public const int PendingBytes = Boot.SharedInfo.MaxPorts / 8;
    public const int SleepingOffset = 2048;
    public const int Size = 4096;
}

/// <summary>
/// Page 0 of the send segment (wire layout): a single-producer ring of port numbers the service sends on.
/// The service writes entries and bumps the producer index; the kernel's pump drains them. Before the pump
/// sleeps it sets "consumer sleeping"; a producer that finds it set clears it and rings the kick doorbell,
/// so a busy pump is never woken per event.
/// </summary>
public static class ServiceSendRing
{
    public const int ProducerOffset = 0;
    public const int ConsumerOffset = 64;
    public const int ConsumerSleepingOffset = 128;
    public const int EntriesOffset = 2048;
    public const int Entries = 512;

    /// <summary>The send segment's pages: this ring, then <see cref="ServiceCopyRing"/>.</summary>
    public const int SegmentPages = 2;
}

/// <summary>
/// Page 1 of the send segment (wire layout): grant copies without a request each. The service writes
/// struct gnttab_copy entries and bumps the producer index, then kicks the pump as for sends; the kernel
/// copies each entry into its own memory before checking it (the service may change the shared entry
/// meanwhile), performs it, writes its status back into the entry, advances the consumer index and rings
/// the service's event doorbell if the service sleeps. Statuses stay readable until the slots are reused.
/// </summary>
public static class ServiceCopyRing
{
    public const int PageOffset = 4096;
    public const int ProducerOffset = 0;
    public const int ConsumerOffset = 64;
    public const int EntriesOffset = 256;
    public const int EntrySize = 40;
    public const int Entries = 96;
}
