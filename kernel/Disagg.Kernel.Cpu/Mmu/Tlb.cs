namespace Disagg.Kernel.Cpu.Mmu;

/// <summary>Software-TLB geometry and the tag masks the run loop compares against.</summary>
internal static class Tlb
{
    /// <summary>Entries per privilege; direct-mapped by virtual page number. 256 x 4 KiB = 1 MiB of reach.</summary>
    public const int Entries = 256;

    public const ulong IndexMask = Entries - 1;

    /// <summary>
    /// The storage holds [user data][supervisor data][user fetch][supervisor fetch]: the fetch TLB of the
    /// current privilege is the data TLB plus this, so code and data pages never evict each other.
    /// </summary>
    public const int FetchOffset = 2 * Entries;

    /// <summary>No masked address has all of bits 0-11 set, so this tag never matches.</summary>
    public const ulong Invalid = 0xFFF;

    public const ulong Mask1 = ~0xFFFUL;
    public const ulong Mask2 = ~0xFFEUL;
    public const ulong Mask4 = ~0xFFCUL;
    public const ulong Mask8 = ~0xFF8UL;
}
