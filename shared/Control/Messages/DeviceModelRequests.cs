namespace Disagg.Control.Messages;

/// <summary>
/// The control domain names the service domain that is an HVM domain's device model (qemu-dm; Xen's
/// XEN_DMOP_create_ioreq_server with the dm's XSM target). Once per domain; before LoadKernel, so the
/// device tree lists the devices the device model serves (the UART, the test device). AnswerTimeoutMs: how long
/// the device model, while its process is there, may leave a vCPU waiting on an ioreq before the domain is crashed
/// (0: the kernel's default, 30 s; at least 100 ms).
/// </summary>
public sealed record SetDeviceModel(int Domain, int DeviceModelDomain, int AnswerTimeoutMs = 0) : ControlMessage;

/// <summary>
/// The device model asks for its domain's ioreq page (public/hvm/ioreq.h, a slot per vCPU whose vp_eport
/// is the port to bind). The reply (<see cref="IoreqPageMapped"/>) carries one descriptor: that page.
/// Only the named device model may; a restarted one asks again.
/// </summary>
public sealed record MapIoreqPage(int Domain) : ControlMessage;

/// <summary>
/// Reply to <see cref="MapIoreqPage"/>: the slots in use and the domain's RAM (guest-physical 0x8000_0000 up,
/// <paramref name="RamBytes"/> long: what virtio queues may point at); one descriptor travels with it.
/// </summary>
public sealed record IoreqPageMapped(int Domain, int Vcpus, ulong RamBytes = 0) : ControlMessage
{
    public const int FdCount = 1;
}

/// <summary>XEN_DMOP_set_irq_level: the device model drives one of its domain's PLIC sources (level-triggered).</summary>
public sealed record SetIrqLevel(int Domain, int Irq, bool Asserted) : ControlMessage;

/// <summary>
/// The device model shuts its domain down (the SiFive test device: poweroff, reboot; a failure code is a
/// crash), as Xen's device model calls xc_domain_shutdown. Reason: Xen's SHUTDOWN_* (0, 1 or 3).
/// </summary>
public sealed record DeviceModelShutdown(int Domain, int Reason) : ControlMessage;

/// <summary>
/// The device model reads its domain's guest-physical memory (what a virtio queue points at), through the
/// kernel and bounded to the domain's RAM: it never holds the RAM itself. At most 64 KiB per request.
/// </summary>
public sealed record ReadGuestMemory(int Domain, ulong Address, int Length) : ControlMessage;

/// <summary>Reply to <see cref="ReadGuestMemory"/>.</summary>
public sealed record GuestMemoryData(byte[] Data) : ControlMessage;

/// <summary>The device model writes its domain's guest-physical memory; as <see cref="ReadGuestMemory"/>.</summary>
public sealed record WriteGuestMemory(int Domain, ulong Address, byte[] Data) : ControlMessage;

/// <summary>
/// The device model's guest-memory copies in one round trip: <paramref name="Writes"/> in order, then a read of
/// <paramref name="ReadLength"/> bytes at <paramref name="ReadAddress"/> (0: none), answered with
/// <see cref="GuestMemoryData"/>. Every range is checked first (each within the domain's RAM, each at most
/// 64 KiB, all writes together at most 256 KiB): a batch with one bad range does nothing. qemu-dm holds its
/// writes until its next read, interrupt or ioreq answer, so a virtio request costs its reads' round trips only.
/// </summary>
public sealed record GuestMemoryBatch(int Domain, IReadOnlyList<GuestMemoryWrite> Writes, ulong ReadAddress, int ReadLength) : ControlMessage
{
    /// <summary>Bytes all writes of one batch may carry together: bounded work per request.</summary>
    public const int MaxWriteBytes = 256 * 1024;
}

/// <summary>One write of a <see cref="GuestMemoryBatch"/>.</summary>
public sealed record GuestMemoryWrite(ulong Address, byte[] Data);

/// <summary>
/// The device model maps <paramref name="Pages"/> whole pages of its domain's RAM from the page-aligned
/// <paramref name="Address"/> (1 to 16): the rings of a virtqueue the guest driver enabled, as Xen's privcmd maps a
/// target's foreign frames. The reply (<see cref="GuestPagesMapped"/>) carries one descriptor per page, each for that
/// page alone; at most 256 pages held at once. Everything else a queue points at is still copied through the kernel.
/// </summary>
public sealed record MapGuestPages(int Domain, ulong Address, int Pages) : ControlMessage;

/// <summary>Reply to <see cref="MapGuestPages"/>: <paramref name="Pages"/> descriptors travel with it, in page order.</summary>
public sealed record GuestPagesMapped(int Domain, ulong Address, int Pages) : ControlMessage
{
    public int FdCount => Pages;
}

/// <summary>The device model unmapped pages it had mapped (the driver reset the queue): the kernel forgets them.</summary>
public sealed record UnmapGuestPages(int Domain, ulong Address, int Pages) : ControlMessage;
