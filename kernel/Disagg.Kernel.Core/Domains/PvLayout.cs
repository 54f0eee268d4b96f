namespace Disagg.Kernel.Core.Domains;

/// <summary>
/// Where a PV domain finds things in guest-physical space. RAM starts at 0x8000_0000 (QEMU virt's
/// DRAM base, ARCHITECTURE §2). The pages the kernel provides — start_info, shared_info, the
/// console and xenstore rings, the grant table — live in a "special" region just below RAM, not
/// in it: they are not RAM the guest allocates or balloons, and an unmodified guest's memory map
/// never mentions them. (QEMU virt puts PCIe MMIO there; Disagg has no PCIe.)
/// </summary>
public static class PvLayout
{
    public const ulong PageSize = 4096;
    public const ulong RamBase = 0x8000_0000;
    public const ulong SpecialBase = 0x7FF0_0000;
    public const ulong SpecialFirstFrame = SpecialBase / PageSize;

    public const int StartInfoPage = 0;
    public const int SharedInfoPage = 1;
    public const int ConsolePage = 2;
    public const int XenstorePage = 3;
    public const int FirstGrantPage = 16;

    /// <summary>Grant table frames a domain may grow to: 32 x 512 = 16384 grant refs (Xen's default max).</summary>
    public const int MaxGrantFrames = 32;

    /// <summary>Grant frames every domain starts with (Xen's default initial size is 1; 4 leaves room for rings of every device).</summary>
    public const int InitialGrantFrames = 4;

    public const int SpecialPages = FirstGrantPage + MaxGrantFrames;

    public static ulong SpecialFrame(int page) => SpecialFirstFrame + (ulong)page;

    public static ulong SpecialAddress(int page) => SpecialBase + ((ulong)page * PageSize);

    public static bool IsSpecialFrame(ulong frame) => frame - SpecialFirstFrame < SpecialPages;

    public const ulong RamFirstFrame = RamBase / PageSize;
}
