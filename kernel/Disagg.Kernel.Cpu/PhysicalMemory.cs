namespace Disagg.Kernel.Cpu;

/// <summary>
/// The guest-physical address space as the host provides it, one 4 KiB frame at a time (the P2M view).
/// A hart caches the host pointers it gets here in its software TLB; the host must call
/// <see cref="InvalidateTranslations"/> whenever an answer it gave may no longer hold: a frame was
/// ballooned out or grant-mapped elsewhere, or a dirty-logging round was reset. Each hart notices at
/// its next block boundary (and at the start of every <see cref="Hart.Run"/>), drops every cached
/// translation and decoded page, and comes back here.
/// </summary>
public abstract unsafe class PhysicalMemory
{
    private int _generation;

    /// <summary>Bumped by <see cref="InvalidateTranslations"/>; harts compare it with the value they cached under.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// The host address of guest frame <paramref name="frame"/> (guest-physical address / 4096), or null
    /// when the frame is not RAM, so accesses to it go to <see cref="ReadMmio"/>/<see cref="WriteMmio"/>.
    /// A hart asks with <paramref name="forWrite"/> = true before it caches a writable translation and
    /// before every uncached store: a dirty-logging implementation marks the frame here (first write per
    /// round). Returning null for a write makes a read-only page; the store then goes to MMIO.
    /// Must be cheap and must not throw.
    /// </summary>
    public abstract byte* Frame(ulong frame, bool forWrite);

    /// <summary>
    /// A load from a non-RAM address, naturally aligned, 1-8 bytes. <see cref="MmioResult.Pending"/> parks the
    /// hart (see <see cref="Hart.CompleteMmio"/>); only integer loads and stores may park, others fault.
    /// Default: nothing is there.
    /// </summary>
    public virtual MmioResult ReadMmio(ulong address, int size, out ulong value)
    {
        value = 0;
        return MmioResult.Fault;
    }

    /// <summary>A store to a non-RAM address; as <see cref="ReadMmio"/>.</summary>
    public virtual MmioResult WriteMmio(ulong address, int size, ulong value) => MmioResult.Fault;

    /// <summary>Makes every hart drop its cached translations and decoded code before it next uses them. Thread-safe.</summary>
    public void InvalidateTranslations() => Interlocked.Increment(ref _generation);
}
