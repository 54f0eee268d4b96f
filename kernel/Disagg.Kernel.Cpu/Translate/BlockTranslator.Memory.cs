using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Loads and stores: the soft TLB's hit path inline (index, tag compare, add the addend). Only the read
/// and write tags are used, so a store goes through the TLB's write entries alone: those exist only for
/// pages the host has marked dirty and that hold no decoded code, and every miss (fill, fault, MMIO, a
/// page becoming dirty or code) is the interpreter's. No host pointer outlives the access that read it.
/// </summary>
internal sealed unsafe partial class BlockTranslator
{
    private static readonly int ReadTagOffset;
    private static readonly int WriteTagOffset;
    private static readonly int ExecTagOffset;
    private static readonly int AddendOffset;
    private static readonly int CodeOffset;

    /// <summary>Bytes from a decoded page to its translation entry words.</summary>
    private static readonly int EntriesOffset = (int)((byte*)DecodeCache.Entries(null) - (byte*)null);

    /// <summary>
    /// rcx = the byte offset from the TLB base (r10) of the TLB entry (data TLB; the fetch TLB is
    /// <see cref="Tlb.FetchOffset"/> entries on) of the virtual address in <paramref name="address"/>:
    /// the page number's low bits, already in place for 64-byte entries, so no multiply and no load.
    /// </summary>
    private void EntryOf(X64Register address)
    {
        var e = _emitter;
        e.Move(X64Register.Rcx, address, wide: false);
        e.Shift(X64ShiftOp.Shr, X64Register.Rcx, 12 - TlbEntryShift, wide: false);
        e.AluImmediate(X64AluOp.And, X64Register.Rcx, (int)Tlb.IndexMask << TlbEntryShift, wide: false);
    }

    /// <summary>rax = the virtual address, rcx = its TLB entry's offset; jumps to a miss exit unless the tag matches.</summary>
    private void Lookup(DecodedOp* op, uint offset, int retired, int bytes, int tagOffset)
    {
        var e = _emitter;

        // RV32 computes the address in 32 bits: the 32-bit move and add zero-extend, which is the address mask.
        Read(X64Register.Rax, op->Rs1, wide: _rv64);
        if (op->Imm != 0)
        {
            e.AluImmediate(X64AluOp.Add, X64Register.Rax, (int)op->Imm, wide: _rv64);
        }

        EntryOf(X64Register.Rax);
        e.Move(X64Register.Rdx, X64Register.Rax);
        e.AluImmediate(X64AluOp.And, X64Register.Rdx, (int)(long)~(ulong)(0xFFF & ~(bytes - 1)));
        e.Alu(X64AluOp.Cmp, X64Register.Rdx, X64Memory.Indexed(TlbBase, X64Register.Rcx, 1, tagOffset));
        SideExit(e.JumpIf(X64Condition.NotEqual), offset, retired);
        e.Alu(X64AluOp.Add, X64Register.Rax, X64Memory.Indexed(TlbBase, X64Register.Rcx, 1, AddendOffset));
    }

    private void Load(DecodedOp* op, uint offset, int retired, int bytes, bool signed)
    {
        Lookup(op, offset, retired, bytes, ReadTagOffset);
        if (op->Rd == Decoder.Sink)
        {
            // The access still happens (and may miss), but x0 keeps its zero.
            return;
        }

        if (_map.TryHost(op->Rd, out var h))
        {
            _emitter.LoadExtend(h, X64Memory.At(X64Register.Rax), bytes, signed);
            return;
        }

        _emitter.LoadExtend(X64Register.Rax, X64Memory.At(X64Register.Rax), bytes, signed);
        Write(op->Rd, X64Register.Rax);
    }

    private void Store(DecodedOp* op, uint offset, int retired, int bytes)
    {
        Lookup(op, offset, retired, bytes, WriteTagOffset);
        Read(X64Register.Rdx, op->Rs2);
        _emitter.Store(X64Memory.At(X64Register.Rax), X64Register.Rdx, bytes);
    }
}
