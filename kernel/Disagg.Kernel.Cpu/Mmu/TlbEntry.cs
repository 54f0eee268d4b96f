using System.Runtime.InteropServices;
using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu.Mmu;

/// <summary>
/// One software-TLB entry: a 4 KiB virtual page mapped to a host page. Each access kind has its own
/// tag (page-aligned virtual address, or <see cref="Tlb.Invalid"/>), so an entry can allow loads but
/// send stores to the slow path (page not yet dirty, or holding decoded code). The fast path compares
/// the tag with the address masked by the page and the access's alignment bits, so a misaligned
/// access never matches and goes to the slow path that emulates it.
/// </summary>
// 64 bytes (padded): translated code finds an entry by shifting the page number, without a multiply.
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal unsafe struct TlbEntry
{
    public ulong ReadTag;
    public ulong WriteTag;
    public ulong ExecTag;

    /// <summary>Host address minus virtual address: host = Addend + va.</summary>
    public ulong Addend;

    /// <summary>The decoded-op page of this frame, valid while <see cref="ExecTag"/> matches.</summary>
    public DecodedOp* Code;

    /// <summary>Guest-physical frame number.</summary>
    public ulong Frame;
}
