using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Translates one block of decoded RISC-V ops (the integer base, M, LUI/AUIPC and the fused constant
/// pairs) to x86-64. A block is straight-line: it ends at the first branch or jump (one exit per
/// direction), at the page end, or before an op it does not translate.
/// <para>
/// The code is a System V function
/// <c>long Block(ulong* x, TlbEntry* tlb, ulong pcBase, nint* entries, long limit)</c>. Its prologue
/// saves the callee-saved host registers and loads the guest registers of <see cref="GuestRegisterMap"/>;
/// the rest stay in the register file (x[32] is the x0 sink). Pc-relative values are computed from
/// pcBase (the virtual address of the block's page), so one translation serves every virtual alias of its
/// frame. Loads and stores inline the soft TLB's fast path (tag compare, add the addend); a miss leaves
/// the block with the pc of that access marked <see cref="InterpretNext"/>, and the interpreter runs it
/// (fill, fault, MMIO, a store to a code page or to a page not yet dirty). Nothing in translated code can
/// trap, so a fault always happens in the interpreter with exactly the faulting instruction's state, and
/// the code never calls back into .NET (it is entered without a GC transition).
/// </para>
/// <para>
/// Chaining: while <c>limit</c> (the instructions the caller allows before its next check of interrupts
/// and budget) stays positive, a branch or jump goes straight into its target's translation, past the
/// prologue: within the page through the page's entry words, to another page or to a computed target
/// (returns, indirect calls) through the fetch TLB, which finds the target page's decoded ops and so its
/// entry words (the jump cache: it is exactly as valid as the fetch TLB, which satp writes, SFENCE.VMA and
/// flushes clear, and the entry words, which stores to the code clear). Every exit goes through one
/// epilogue that stores the mapped guest registers back, writes the next pc to x[<see cref="NextPcSlot"/>]
/// (bit 0, <see cref="InterpretNext"/>, set when the op there must be interpreted; pcs are even) and
/// returns <c>limit</c> minus everything retired.
/// </para>
/// </summary>
internal sealed unsafe partial class BlockTranslator
{
    /// <summary>Set in the next pc when the block stopped before an op the interpreter must run.</summary>
    public const ulong InterpretNext = 1;

    /// <summary>Bounds a block's code size (and so the time a block runs without a budget check).</summary>
    public const int MaxOps = 128;

    /// <summary>Register-file words (between the x0 sink and the FP registers) the translated code keeps its context in.</summary>
    public const int EntriesSlot = 38;

    /// <summary>The register-file word a block writes its next pc to.</summary>
    public const int NextPcSlot = 39;

    /// <summary>The register-file word holding the virtual address of the running block's page.</summary>
    public const int PcBaseSlot = 37;

    /// <summary>log2 of sizeof(TlbEntry): an entry's offset is the page number's low bits shifted by it, no multiply.</summary>
    private const int TlbEntryShift = 6;

    private const X64Register Registers = X64Register.Rdi;
    private const X64Register TlbBase = X64Register.R10;
    private const X64Register Limit = X64Register.R9;

    private readonly X64Emitter _emitter = new(16384);
    private readonly bool _rv64;

    // Exits to the interpreter at an op (a TLB miss, FP not ready, a NaN result), laid out after the block
    // body: patch position, pc offset, retired before. At most two per op.
    private readonly int[] _sideExitPatch = new int[2 * MaxOps];
    private readonly uint[] _sideExitOffset = new uint[2 * MaxOps];
    private readonly int[] _sideExitRetired = new int[2 * MaxOps];
    private int _sideExits;

    // Taken conditional branches, laid out after the block body: patch position, target offset, retired
    // including the branch.
    private readonly int[] _takenExitPatch = new int[MaxOps];
    private readonly long[] _takenExitTarget = new long[MaxOps];
    private readonly int[] _takenExitRetired = new int[MaxOps];
    private int _takenExits;

    // The page's entry words and the block's start (bytes into the page), for direct jumps.
    private nint* _entries;
    private uint _startOffset;

    // Which guest registers this block keeps in host registers, and where its loop head (past their loads) is.
    private readonly GuestRegisterMap _map = new();
    private int _loopHead;

    // Jumps to the block's one epilogue.
    private readonly List<int> _toEpilogue = [];

    static BlockTranslator()
    {
        TlbEntry t = default;
        var b = (byte*)&t;
        ReadTagOffset = (int)((byte*)&t.ReadTag - b);
        WriteTagOffset = (int)((byte*)&t.WriteTag - b);
        ExecTagOffset = (int)((byte*)&t.ExecTag - b);
        AddendOffset = (int)((byte*)&t.Addend - b);
        CodeOffset = (int)((byte*)&t.Code - b);
        if (sizeof(TlbEntry) != 1 << TlbEntryShift)
        {
            throw new InvalidOperationException($"cpu: a TLB entry is {sizeof(TlbEntry)} bytes; the translator indexes by shifting for {1 << TlbEntryShift}");
        }

        var e = new X64Emitter(256);
        EmitPrologue(e);
        PrologueLength = e.Length;
    }

    public BlockTranslator(bool rv64) => _rv64 = rv64;

    /// <summary>Bytes of the prologue a chained jump skips (the chain already has the registers it sets up).</summary>
    public static int PrologueLength { get; }

    /// <summary>The machine code of the last <see cref="Translate"/>.</summary>
    public ReadOnlySpan<byte> Code => _emitter.Code;

    /// <summary>True for kinds of op a block may contain (the last of them possibly ending it).</summary>
    public static bool Translates(Op kind) => kind is >= Op.Nop and <= Op.Auipc32Addi || IsFloat(kind);

    /// <summary>True for an op a block may contain: its kind, and for FP ops its rounding mode and the host.</summary>
    public static bool Translates(DecodedOp* op) => op->Kind is >= Op.Nop and <= Op.Auipc32Addi || (IsFloat(op->Kind) && TranslatesFloat(op));

    /// <summary>
    /// True for ops after which a block ends: unconditional jumps. A conditional branch does not end it
    /// (superblocks): its taken direction is a side exit that chains, its fall-through continues the block.
    /// </summary>
    public static bool EndsBlock(Op kind) => kind is >= Op.Jal and <= Op.Jalr32;

    /// <summary>True for conditional branches (a side exit when taken).</summary>
    public static bool IsBranch(Op kind) => kind is >= Op.Beq and <= Op.Bgeu;

    /// <summary>
    /// Translates the ops from <paramref name="first"/> (at byte <paramref name="offset"/> of its page),
    /// which the caller has decoded up to the block's end. <paramref name="entries"/> are the page's entry
    /// words: a jump to a slot of this page that already holds a translation becomes a direct jump (both are
    /// dropped together, since a page's entry words are cleared all at once), a jump to the block's own start
    /// a jump within it. Returns how many ops the block holds; 0 when the first op is not translatable (then
    /// there is no code).
    /// </summary>
    public int Translate(DecodedOp* first, uint offset, nint* entries)
    {
        _emitter.Clear();
        _sideExits = 0;
        _takenExits = 0;
        _toEpilogue.Clear();
        _fpChecked = false;
        _entries = entries;
        _startOffset = offset;
        var op = first;
        var retired = 0;
        var count = 0;
        if (!Translates(op))
        {
            return 0;
        }

        AllocateRegisters(first, offset);
        EmitPrologue(_emitter);
        LoadAllocated();
        _loopHead = _emitter.Length;
        while (true)
        {
            if (count == MaxOps || op->Kind == Op.BlockEnd)
            {
                // A long block continues in the next one, the page end in the next page (chained when translated).
                PcPlus(X64Register.Rax, offset);
                MaskPc();
                ChainOrExit(retired, offset);
                break;
            }

            if (!Translates(op))
            {
                PcPlus(X64Register.Rax, offset);
                Exit(retired, interpretNext: true);
                break;
            }

            count++;
            if (EndsBlock(op->Kind))
            {
                EmitControl(op, offset, retired + 1);
                break;
            }

            if (IsBranch(op->Kind))
            {
                EmitBranch(op, offset, retired + 1);
                retired++;
                offset += (uint)op->Len * 2;
                op += op->Len;
                continue;
            }

            Emit(op, offset, retired);
            retired += op->Kind is Op.LuiAddi or Op.AuipcAddi or Op.Auipc32Addi ? 2 : 1;
            offset += (uint)op->Len * 2;
            op += op->Len;
        }

        for (var i = 0; i < _takenExits; i++)
        {
            _emitter.Bind(_takenExitPatch[i]);
            PcPlus(X64Register.Rax, _takenExitTarget[i]);
            MaskPc();
            ChainOrExit(_takenExitRetired[i], _takenExitTarget[i]);
        }

        for (var i = 0; i < _sideExits; i++)
        {
            _emitter.Bind(_sideExitPatch[i]);
            PcPlus(X64Register.Rax, _sideExitOffset[i]);
            Exit(_sideExitRetired[i], interpretNext: true);
        }

        EmitEpilogue();
        return count;
    }

    private static X64Memory X(int r) => X64Memory.At(Registers, r * 8);

    /// <summary>
    /// Walks the ops the block will hold (as <see cref="Translate"/> does) and gives host registers to the guest
    /// registers it uses most: twice or more, or once when the block loops onto its own start.
    /// </summary>
    private void AllocateRegisters(DecodedOp* first, uint offset)
    {
        _map.Clear();
        var op = first;
        var loops = false;
        for (var n = 0; n < MaxOps && op->Kind != Op.BlockEnd && Translates(op); n++)
        {
            _map.Use(op->Rs1, write: false);
            _map.Use(op->Rs2, write: false);
            _map.Use(op->Rd, write: true);
            if ((IsBranch(op->Kind) || op->Kind is Op.Jal or Op.Jal32) && offset + op->Imm == _startOffset)
            {
                loops = true;
            }

            if (EndsBlock(op->Kind))
            {
                break;
            }

            offset += (uint)op->Len * 2;
            op += op->Len;
        }

        _map.Allocate(loops ? 1 : 2);
    }

    /// <summary>The block's entry, where chained jumps land: the allocated guest registers from the register file.</summary>
    private void LoadAllocated()
    {
        for (var i = 0; i < _map.Count; i++)
        {
            var (guest, host) = _map[i];
            _emitter.Load(host, X(guest));
        }
    }

    /// <summary>
    /// On every way out of the block: the allocated guest registers it may have written, back to the register
    /// file. RV32: sign-extended here, once per way out, not after every op (see <see cref="Read"/>).
    /// </summary>
    private void StoreAllocated()
    {
        for (var i = 0; i < _map.Count; i++)
        {
            if (_map.Written(i))
            {
                var (guest, host) = _map[i];
                if (!_rv64)
                {
                    _emitter.SignExtend32(host, host);
                }

                _emitter.Store(X(guest), host, 8);
            }
        }
    }

    /// <summary>Records a jump (its patch position) to an exit that has the interpreter run the op at <paramref name="offset"/>.</summary>
    private void SideExit(int patch, uint offset, int retired)
    {
        _sideExitPatch[_sideExits] = patch;
        _sideExitOffset[_sideExits] = offset;
        _sideExitRetired[_sideExits] = retired;
        _sideExits++;
    }

    /// <summary>
    /// dst = guest register r (the 32-bit form zero-extends). RV32: a host register holding a guest register
    /// is valid in its low 32 bits only (32-bit ops leave the upper half zero, not the sign), since no RV32 op
    /// observes more: arithmetic, compares and branches use 32-bit forms, addresses are 32-bit. The 64-bit
    /// form sign-extends it (movsxd costs what a mov does), and the register file is always sign-extended
    /// (<see cref="StoreAllocated"/>, <see cref="Finish"/>): that saves a movsxd per ALU op in a loop.
    /// </summary>
    private void Read(X64Register dst, int r, bool wide = true)
    {
        if (_map.TryHost(r, out var h))
        {
            if (wide && !_rv64)
            {
                _emitter.SignExtend32(dst, h);
            }
            else
            {
                _emitter.Move(dst, h, wide);
            }
        }
        else
        {
            _emitter.Load(dst, X(r), wide);
        }
    }

    /// <summary>Guest register rd = src (all 64 bits).</summary>
    private void Write(int rd, X64Register src)
    {
        if (_map.TryHost(rd, out var h))
        {
            _emitter.Move(h, src);
        }
        else
        {
            _emitter.Store(X(rd), src, 8);
        }
    }

    /// <summary>dst op= guest register r. RV32 passes the 32-bit form (a host register's upper half is not the sign).</summary>
    private void AluWith(X64AluOp alu, X64Register dst, int r, bool wide = true)
    {
        if (_map.TryHost(r, out var h))
        {
            if (wide && !_rv64)
            {
                throw new InvalidOperationException($"cpu: translator: a 64-bit {alu} of RV32 register x{r} held in {h}");
            }

            _emitter.Alu(alu, dst, h, wide);
        }
        else
        {
            _emitter.Alu(alu, dst, X(r), wide);
        }
    }

    private void Emit(DecodedOp* op, uint offset, int retired)
    {
        var e = _emitter;
        int rd = op->Rd, rs1 = op->Rs1, rs2 = op->Rs2;
        var imm = op->Imm;
        if (IsFloat(op->Kind))
        {
            EmitFloat(op, offset, retired);
            return;
        }

        switch (op->Kind)
        {
            case Op.Nop:
                return;
            case Op.Lb: Load(op, offset, retired, 1, true); return;
            case Op.Lh: Load(op, offset, retired, 2, true); return;
            case Op.Lw: Load(op, offset, retired, 4, true); return;
            case Op.Ld: Load(op, offset, retired, 8, false); return;
            case Op.Lbu: Load(op, offset, retired, 1, false); return;
            case Op.Lhu: Load(op, offset, retired, 2, false); return;
            case Op.Lwu: Load(op, offset, retired, 4, false); return;
            case Op.Sb: Store(op, offset, retired, 1); return;
            case Op.Sh: Store(op, offset, retired, 2); return;
            case Op.Sw: Store(op, offset, retired, 4); return;
            case Op.Sd: Store(op, offset, retired, 8); return;
        }

        if (rd == Decoder.Sink)
        {
            // Every remaining op only writes rd; to x0 it is a no-op (division by zero does not trap).
            return;
        }

        var rax = X64Register.Rax;
        switch (op->Kind)
        {
            case Op.Lui:
            case Op.Li:
            case Op.LuiAddi:
                if (_map.TryHost(rd, out var h))
                {
                    e.MoveImmediate(h, imm);
                }
                else if (imm is >= int.MinValue and <= int.MaxValue)
                {
                    e.StoreImmediate(X(rd), (int)imm);
                }
                else
                {
                    e.MoveImmediate(rax, imm);
                    e.Store(X(rd), rax, 8);
                }

                return;
            case Op.Mv:
                Read(rax, rs1);
                break;
            case Op.Auipc:
            case Op.AuipcAddi:
                PcPlus(rax, offset + imm);
                break;
            case Op.Auipc32:
            case Op.Auipc32Addi:
                PcPlus(rax, offset + imm);
                e.SignExtend32(rax, rax);
                break;
            case Op.Addi: AluImmediate(X64AluOp.Add, rd, rs1, imm, true); return;
            case Op.Xori: AluImmediate(X64AluOp.Xor, rd, rs1, imm, _rv64); return;
            case Op.Ori: AluImmediate(X64AluOp.Or, rd, rs1, imm, _rv64); return;
            case Op.Andi: AluImmediate(X64AluOp.And, rd, rs1, imm, _rv64); return;
            case Op.Addiw: AluImmediate(X64AluOp.Add, rd, rs1, imm, false); return;
            case Op.Slti: CompareImmediate(rs1, imm, X64Condition.Less); break;
            case Op.Sltiu: CompareImmediate(rs1, imm, X64Condition.Below); break;
            case Op.Slli: ShiftImmediate(X64ShiftOp.Shl, rd, rs1, imm, true); return;
            case Op.Srli: ShiftImmediate(X64ShiftOp.Shr, rd, rs1, imm, true); return;
            case Op.Srai: ShiftImmediate(X64ShiftOp.Sar, rd, rs1, imm, true); return;
            case Op.Slliw: ShiftImmediate(X64ShiftOp.Shl, rd, rs1, imm, false); return;
            case Op.Srliw: ShiftImmediate(X64ShiftOp.Shr, rd, rs1, imm, false); return;
            case Op.Sraiw: ShiftImmediate(X64ShiftOp.Sar, rd, rs1, imm, false); return;
            case Op.Add: AluRegisters(X64AluOp.Add, rd, rs1, rs2, true); return;
            case Op.Sub: AluRegisters(X64AluOp.Sub, rd, rs1, rs2, true); return;
            case Op.Xor: AluRegisters(X64AluOp.Xor, rd, rs1, rs2, _rv64); return;
            case Op.Or: AluRegisters(X64AluOp.Or, rd, rs1, rs2, _rv64); return;
            case Op.And: AluRegisters(X64AluOp.And, rd, rs1, rs2, _rv64); return;
            case Op.Addw: AluRegisters(X64AluOp.Add, rd, rs1, rs2, false); return;
            case Op.Subw: AluRegisters(X64AluOp.Sub, rd, rs1, rs2, false); return;
            case Op.Slt: CompareRegisters(rs1, rs2, X64Condition.Less); break;
            case Op.Sltu: CompareRegisters(rs1, rs2, X64Condition.Below); break;
            case Op.Sll: ShiftRegisters(X64ShiftOp.Shl, rs1, rs2, true); break;
            case Op.Srl: ShiftRegisters(X64ShiftOp.Shr, rs1, rs2, true); break;
            case Op.Sra: ShiftRegisters(X64ShiftOp.Sar, rs1, rs2, true); break;
            case Op.Sllw: ShiftRegisters(X64ShiftOp.Shl, rs1, rs2, false); break;
            case Op.Srlw: ShiftRegisters(X64ShiftOp.Shr, rs1, rs2, false); break;
            case Op.Sraw: ShiftRegisters(X64ShiftOp.Sar, rs1, rs2, false); break;
            default:
                rax = EmitMultiplyDivide(op->Kind, rs1, rs2);
                break;
        }

        Write(rd, rax);
    }

    /// <summary>
    /// The register to compute rd = rs1 op ... in: rd's own host register when it has one (rd = rs1 first,
    /// unless rd is already rs1; never when rd is the other operand <paramref name="rs2"/>, which the copy
    /// would overwrite), else rax, to be written to rd afterwards.
    /// </summary>
    private X64Register Target(int rd, int rs1, int rs2, bool wide)
    {
        if (_map.TryHost(rd, out var h) && rd != rs2)
        {
            if (rd != rs1)
            {
                Read(h, rs1, wide);
            }

            return h;
        }

        Read(X64Register.Rax, rs1, wide);
        return X64Register.Rax;
    }

    /// <summary>
    /// Finishes <see cref="Target"/>: W results sign-extended to 64 bits (on RV32 only a result for the register
    /// file: one in a host register stays 32-bit, see <see cref="Read"/>), a result in rax written to rd.
    /// </summary>
    private void Finish(int rd, X64Register result, bool wide)
    {
        if (!wide && (_rv64 || result == X64Register.Rax))
        {
            _emitter.SignExtend32(result, result);
        }

        if (result == X64Register.Rax)
        {
            Write(rd, X64Register.Rax);
        }
    }

    /// <summary>W ops compute in 32 bits; the result in rax is sign-extended to 64.</summary>
    private void SignExtendIfNarrow(bool wide)
    {
        if (!wide)
        {
            _emitter.SignExtend32(X64Register.Rax, X64Register.Rax);
        }
    }

    /// <summary>rd = rs1 op imm, in rd's host register when it has one.</summary>
    private void AluImmediate(X64AluOp alu, int rd, int rs1, long imm, bool wide)
    {
        var t = Target(rd, rs1, -1, wide);
        _emitter.AluImmediate(alu, t, (int)imm, wide);
        Finish(rd, t, wide);
    }

    /// <summary>rd = rs1 op rs2, in rd's host register when it has one (and is not rs2).</summary>
    private void AluRegisters(X64AluOp alu, int rd, int rs1, int rs2, bool wide)
    {
        var t = Target(rd, rs1, rs2, wide);
        AluWith(alu, t, rs2, wide);
        Finish(rd, t, wide);
    }

    private void CompareImmediate(int rs1, long imm, X64Condition condition)
    {
        Read(X64Register.Rax, rs1);
        _emitter.AluImmediate(X64AluOp.Cmp, X64Register.Rax, (int)imm);
        _emitter.SetIf(condition, X64Register.Rax);
        _emitter.ZeroExtend8(X64Register.Rax, X64Register.Rax);
    }

    private void CompareRegisters(int rs1, int rs2, X64Condition condition)
    {
        // RV32 compares the low 32 bits, signed or unsigned as the condition says.
        Read(X64Register.Rax, rs1, _rv64);
        AluWith(X64AluOp.Cmp, X64Register.Rax, rs2, _rv64);
        _emitter.SetIf(condition, X64Register.Rax);
        _emitter.ZeroExtend8(X64Register.Rax, X64Register.Rax);
    }

    private void ShiftImmediate(X64ShiftOp shift, int rd, int rs1, long amount, bool wide)
    {
        var t = Target(rd, rs1, -1, wide);
        _emitter.Shift(shift, t, (byte)amount, wide);
        Finish(rd, t, wide);
    }

    private void ShiftRegisters(X64ShiftOp shift, int rs1, int rs2, bool wide)
    {
        Read(X64Register.Rcx, rs2, wide: false);
        Read(X64Register.Rax, rs1, wide);
        _emitter.ShiftByCl(shift, X64Register.Rax, wide);
        SignExtendIfNarrow(wide);
    }
}
