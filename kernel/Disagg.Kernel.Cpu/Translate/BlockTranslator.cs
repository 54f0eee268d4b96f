using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Translates one block of decoded RISC-V ops (the hot integer subset: ALU, MUL, MULH(U), LUI/AUIPC,
/// loads and stores, branches and jumps) to x86-64. A block is straight-line: it ends at the first
/// branch or jump (one exit per direction), at the page end, or before an op it does not translate.
/// <para>
/// The code is a System V function
/// <c>long Block(ulong* x, TlbEntry* tlb, ulong pcBase, ulong* nextPc, nint* entries, long limit)</c>:
/// guest registers stay in memory (x[32] is the x0 sink), pc-relative values are computed from
/// pcBase (the virtual address of the block's page), so one translation serves every virtual alias of
/// its frame. Loads and stores inline the soft TLB's fast path (tag compare, add the addend); a miss
/// leaves the block with the pc of that access marked <see cref="InterpretNext"/>, and the interpreter
/// runs it (fill, fault, MMIO, store to a code page). Nothing in translated code can trap, so a fault
/// always happens in the interpreter with exactly the faulting instruction's state, and the code never
/// calls back into .NET (it may be entered without a GC transition).
/// </para>
/// <para>
/// Chaining: a branch or jump whose target lies in the same page jumps straight into the target's
/// translation (found in the page's entry words, past its prologue) while <c>limit</c>, the number of
/// instructions the caller allows before its next check of interrupts and budget, stays positive.
/// The block returns <c>limit</c> minus everything retired (so the caller gets the count) and writes
/// the next pc to *nextPc, with bit 0 (<see cref="InterpretNext"/>) set when the op there must be
/// interpreted (pcs are even, so the bit is free).
/// </para>
/// </summary>
internal sealed unsafe class BlockTranslator
{
    /// <summary>Set in the next pc when the block stopped before an op the interpreter must run.</summary>
    public const ulong InterpretNext = 1;

    /// <summary>Bytes of the prologue a chained jump skips (it sets up registers the chain already has).</summary>
    public const int PrologueLength = 6;

    /// <summary>Bounds a block's code size (and so the time a block runs without a budget check).</summary>
    public const int MaxOps = 128;

    private const X64Register Registers = X64Register.Rdi;
    private const X64Register Tlb = X64Register.Rsi;
    private const X64Register PcBase = X64Register.R10;
    private const X64Register NextPc = X64Register.R11;
    private const X64Register Entries = X64Register.R8;
    private const X64Register Limit = X64Register.R9;

    private static readonly int ReadTagOffset;
    private static readonly int WriteTagOffset;
    private static readonly int AddendOffset;

    private readonly X64Emitter _emitter = new(16384);
    private readonly bool _rv64;

    // Exits taken on a TLB miss, laid out after the block body: patch position, pc offset, retired before.
    private readonly int[] _missPatch = new int[MaxOps];
    private readonly uint[] _missOffset = new uint[MaxOps];
    private readonly int[] _missRetired = new int[MaxOps];
    private int _misses;

    static BlockTranslator()
    {
        TlbEntry e = default;
        var b = (byte*)&e;
        ReadTagOffset = (int)((byte*)&e.ReadTag - b);
        WriteTagOffset = (int)((byte*)&e.WriteTag - b);
        AddendOffset = (int)((byte*)&e.Addend - b);
    }

    public BlockTranslator(bool rv64) => _rv64 = rv64;

    /// <summary>The machine code of the last <see cref="Translate"/>.</summary>
    public ReadOnlySpan<byte> Code => _emitter.Code;

    /// <summary>True for ops a block may contain (the last of them possibly ending it).</summary>
    public static bool Translates(Op kind) => kind is >= Op.Nop and <= Op.Mulhu and not Op.Mulhsu or Op.Mulw or Op.Mv or Op.Li
        or Op.LuiAddi or Op.AuipcAddi or Op.Auipc32Addi;

    /// <summary>True for ops after which a block ends (control transfers).</summary>
    public static bool EndsBlock(Op kind) => kind is >= Op.Jal and <= Op.Bgeu;

    /// <summary>
    /// Translates the ops from <paramref name="first"/> (at byte <paramref name="offset"/> of its page),
    /// which the caller has decoded up to the block's end. Returns how many ops the block holds; 0 when
    /// the first op is not translatable (then there is no code).
    /// </summary>
    public int Translate(DecodedOp* first, uint offset)
    {
        _emitter.Clear();
        _misses = 0;
        var op = first;
        var retired = 0;
        var count = 0;
        if (!Translates(op->Kind))
        {
            return 0;
        }

        _emitter.Move(PcBase, X64Register.Rdx);
        _emitter.Move(NextPc, X64Register.Rcx);
        if (_emitter.Length != PrologueLength)
        {
            throw new InvalidOperationException("cpu: translator: prologue length changed");
        }

        while (true)
        {
            if (count == MaxOps || op->Kind == Op.BlockEnd)
            {
                // A long block continues in the next one (chained when translated); the page end
                // continues in the next page as a new block.
                PcPlus(X64Register.Rax, offset);
                MaskPc();
                ChainOrExit(retired, offset);
                break;
            }

            if (!Translates(op->Kind))
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

            Emit(op, offset, retired);
            retired += op->Kind is Op.LuiAddi or Op.AuipcAddi or Op.Auipc32Addi ? 2 : 1;
            offset += (uint)op->Len * 2;
            op += op->Len;
        }

        for (var i = 0; i < _misses; i++)
        {
            _emitter.Bind(_missPatch[i]);
            PcPlus(X64Register.Rax, _missOffset[i]);
            Exit(_missRetired[i], interpretNext: true);
        }

        return count;
    }

    private static X64Memory X(int r) => X64Memory.At(Registers, r * 8);

    private void Emit(DecodedOp* op, uint offset, int retired)
    {
        var e = _emitter;
        int rd = op->Rd, rs1 = op->Rs1, rs2 = op->Rs2;
        var imm = op->Imm;
        var sink = rd == Decoder.Sink;
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

        if (sink)
        {
            // Every remaining op only writes rd; to x0 it is a no-op.
            return;
        }

        var rax = X64Register.Rax;
        switch (op->Kind)
        {
            case Op.Lui:
            case Op.Li:
            case Op.LuiAddi:
                if (imm is >= int.MinValue and <= int.MaxValue)
                {
                    e.StoreImmediate(X(rd), (int)imm);
                    return;
                }

                e.MoveImmediate(rax, imm);
                break;
            case Op.Mv:
                e.Load(rax, X(rs1));
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
            case Op.Addi: AluImmediate(X64AluOp.Add, rs1, imm, true); break;
            case Op.Xori: AluImmediate(X64AluOp.Xor, rs1, imm, true); break;
            case Op.Ori: AluImmediate(X64AluOp.Or, rs1, imm, true); break;
            case Op.Andi: AluImmediate(X64AluOp.And, rs1, imm, true); break;
            case Op.Addiw: AluImmediate(X64AluOp.Add, rs1, imm, false); break;
            case Op.Slti: CompareImmediate(rs1, imm, X64Condition.Less); break;
            case Op.Sltiu: CompareImmediate(rs1, imm, X64Condition.Below); break;
            case Op.Slli: ShiftImmediate(X64ShiftOp.Shl, rs1, imm, true); break;
            case Op.Srli: ShiftImmediate(X64ShiftOp.Shr, rs1, imm, true); break;
            case Op.Srai: ShiftImmediate(X64ShiftOp.Sar, rs1, imm, true); break;
            case Op.Slliw: ShiftImmediate(X64ShiftOp.Shl, rs1, imm, false); break;
            case Op.Srliw: ShiftImmediate(X64ShiftOp.Shr, rs1, imm, false); break;
            case Op.Sraiw: ShiftImmediate(X64ShiftOp.Sar, rs1, imm, false); break;
            case Op.Add: AluRegisters(X64AluOp.Add, rs1, rs2, true); break;
            case Op.Sub: AluRegisters(X64AluOp.Sub, rs1, rs2, true); break;
            case Op.Xor: AluRegisters(X64AluOp.Xor, rs1, rs2, true); break;
            case Op.Or: AluRegisters(X64AluOp.Or, rs1, rs2, true); break;
            case Op.And: AluRegisters(X64AluOp.And, rs1, rs2, true); break;
            case Op.Addw: AluRegisters(X64AluOp.Add, rs1, rs2, false); break;
            case Op.Subw: AluRegisters(X64AluOp.Sub, rs1, rs2, false); break;
            case Op.Slt: CompareRegisters(rs1, rs2, X64Condition.Less); break;
            case Op.Sltu: CompareRegisters(rs1, rs2, X64Condition.Below); break;
            case Op.Sll: ShiftRegisters(X64ShiftOp.Shl, rs1, rs2, true); break;
            case Op.Srl: ShiftRegisters(X64ShiftOp.Shr, rs1, rs2, true); break;
            case Op.Sra: ShiftRegisters(X64ShiftOp.Sar, rs1, rs2, true); break;
            case Op.Sllw: ShiftRegisters(X64ShiftOp.Shl, rs1, rs2, false); break;
            case Op.Srlw: ShiftRegisters(X64ShiftOp.Shr, rs1, rs2, false); break;
            case Op.Sraw: ShiftRegisters(X64ShiftOp.Sar, rs1, rs2, false); break;
            case Op.Mul:
                e.Load(rax, X(rs1));
                e.Multiply(rax, X(rs2));
                break;
            case Op.Mulw:
                e.Load(rax, X(rs1), wide: false);
                e.Multiply(rax, X(rs2), wide: false);
                e.SignExtend32(rax, rax);
                break;
            case Op.Mulh:
            case Op.Mulhu:
                e.Load(rax, X(rs1));
                e.MultiplyWide(X(rs2), signed: op->Kind == Op.Mulh);
                rax = X64Register.Rdx;
                break;
            default:
                throw new InvalidOperationException($"cpu: translator: op {op->Kind} is not translatable");
        }

        e.Store(X(rd), rax, 8);
    }

    private void AluImmediate(X64AluOp alu, int rs1, long imm, bool wide)
    {
        _emitter.Load(X64Register.Rax, X(rs1), wide);
        _emitter.AluImmediate(alu, X64Register.Rax, (int)imm, wide);
        SignExtendIfNarrow(wide);
    }

    private void AluRegisters(X64AluOp alu, int rs1, int rs2, bool wide)
    {
        _emitter.Load(X64Register.Rax, X(rs1), wide);
        _emitter.Alu(alu, X64Register.Rax, X(rs2), wide);
        SignExtendIfNarrow(wide);
    }

    /// <summary>W ops compute in 32 bits; the result is sign-extended to 64.</summary>
    private void SignExtendIfNarrow(bool wide)
    {
        if (!wide)
        {
            _emitter.SignExtend32(X64Register.Rax, X64Register.Rax);
        }
    }

    private void CompareImmediate(int rs1, long imm, X64Condition condition)
    {
        _emitter.Load(X64Register.Rax, X(rs1));
        _emitter.AluImmediate(X64AluOp.Cmp, X64Register.Rax, (int)imm);
        _emitter.SetIf(condition, X64Register.Rax);
        _emitter.ZeroExtend8(X64Register.Rax, X64Register.Rax);
    }

    private void CompareRegisters(int rs1, int rs2, X64Condition condition)
    {
        _emitter.Load(X64Register.Rax, X(rs1));
        _emitter.Alu(X64AluOp.Cmp, X64Register.Rax, X(rs2));
        _emitter.SetIf(condition, X64Register.Rax);
        _emitter.ZeroExtend8(X64Register.Rax, X64Register.Rax);
    }

    private void ShiftImmediate(X64ShiftOp shift, int rs1, long amount, bool wide)
    {
        _emitter.Load(X64Register.Rax, X(rs1), wide);
        _emitter.Shift(shift, X64Register.Rax, (byte)amount, wide);
        SignExtendIfNarrow(wide);
    }

    private void ShiftRegisters(X64ShiftOp shift, int rs1, int rs2, bool wide)
    {
        _emitter.Load(X64Register.Rcx, X(rs2), wide: false);
        _emitter.Load(X64Register.Rax, X(rs1), wide);
        _emitter.ShiftByCl(shift, X64Register.Rax, wide);
        SignExtendIfNarrow(wide);
    }

    /// <summary>rax = the virtual address, rcx = its TLB entry; jumps to a miss exit unless the tag matches.</summary>
    private void Lookup(DecodedOp* op, uint offset, int retired, int bytes, int tagOffset)
    {
        var e = _emitter;
        e.Load(X64Register.Rax, X(op->Rs1));
        if (op->Imm != 0)
        {
            e.AluImmediate(X64AluOp.Add, X64Register.Rax, (int)op->Imm);
        }

        if (!_rv64)
        {
            e.Move(X64Register.Rax, X64Register.Rax, wide: false);
        }

        e.Move(X64Register.Rcx, X64Register.Rax);
        e.Shift(X64ShiftOp.Shr, X64Register.Rcx, 12);
        e.AluImmediate(X64AluOp.And, X64Register.Rcx, (int)Mmu.Tlb.IndexMask, wide: false);
        e.MultiplyImmediate(X64Register.Rcx, X64Register.Rcx, sizeof(TlbEntry));
        e.Alu(X64AluOp.Add, X64Register.Rcx, Tlb);
        e.Move(X64Register.Rdx, X64Register.Rax);
        e.AluImmediate(X64AluOp.And, X64Register.Rdx, (int)(long)~(ulong)(0xFFF & ~(bytes - 1)));
        e.Alu(X64AluOp.Cmp, X64Register.Rdx, X64Memory.At(X64Register.Rcx, tagOffset));
        _missPatch[_misses] = e.JumpIf(X64Condition.NotEqual);
        _missOffset[_misses] = offset;
        _missRetired[_misses] = retired;
        _misses++;
        e.Alu(X64AluOp.Add, X64Register.Rax, X64Memory.At(X64Register.Rcx, AddendOffset));
    }

    private void Load(DecodedOp* op, uint offset, int retired, int bytes, bool signed)
    {
        Lookup(op, offset, retired, bytes, ReadTagOffset);
        _emitter.LoadExtend(X64Register.Rax, X64Memory.At(X64Register.Rax), bytes, signed);
        _emitter.Store(X(op->Rd), X64Register.Rax, 8);
    }

    private void Store(DecodedOp* op, uint offset, int retired, int bytes)
    {
        Lookup(op, offset, retired, bytes, WriteTagOffset);
        _emitter.Load(X64Register.Rdx, X(op->Rs2));
        _emitter.Store(X64Memory.At(X64Register.Rax), X64Register.Rdx, bytes);
    }

    /// <summary>A branch or jump: writes rd (jumps), then leaves with the next pc, counting the op itself.</summary>
    private void EmitControl(DecodedOp* op, uint offset, int retired)
    {
        var e = _emitter;
        var next = offset + ((uint)op->Len * 2);
        switch (op->Kind)
        {
            case Op.Jal:
            case Op.Jal32:
                Link(op->Rd, next);
                PcPlus(X64Register.Rax, offset + op->Imm);
                MaskPc();
                ChainOrExit(retired, offset + op->Imm);
                return;
            case Op.Jalr:
            case Op.Jalr32:
                // The target reads rs1 before rd is written (they may be the same register).
                e.Load(X64Register.Rcx, X(op->Rs1));
                if (op->Imm != 0)
                {
                    e.AluImmediate(X64AluOp.Add, X64Register.Rcx, (int)op->Imm);
                }

                e.AluImmediate(X64AluOp.And, X64Register.Rcx, -2);
                Link(op->Rd, next);
                e.Move(X64Register.Rax, X64Register.Rcx);
                MaskPc();
                ChainOrExit(retired, null);
                return;
            default:
                e.Load(X64Register.Rax, X(op->Rs1));
                e.Alu(X64AluOp.Cmp, X64Register.Rax, X(op->Rs2));
                var taken = e.JumpIf(op->Kind switch
                {
                    Op.Beq => X64Condition.Equal,
                    Op.Bne => X64Condition.NotEqual,
                    Op.Blt => X64Condition.Less,
                    Op.Bge => X64Condition.GreaterOrEqual,
                    Op.Bltu => X64Condition.Below,
                    _ => X64Condition.AboveOrEqual,
                });
                PcPlus(X64Register.Rax, next);
                MaskPc();
                ChainOrExit(retired, next);
                e.Bind(taken);
                PcPlus(X64Register.Rax, offset + op->Imm);
                MaskPc();
                ChainOrExit(retired, offset + op->Imm);
                return;
        }
    }

    /// <summary>rd = the return address (sign-extended from 32 bits on RV32), unless rd is x0.</summary>
    private void Link(int rd, uint next)
    {
        if (rd == Decoder.Sink)
        {
            return;
        }

        PcPlus(X64Register.Rax, next);
        if (!_rv64)
        {
            _emitter.SignExtend32(X64Register.Rax, X64Register.Rax);
        }

        _emitter.Store(X(rd), X64Register.Rax, 8);
    }

    private void MaskPc()
    {
        if (!_rv64)
        {
            _emitter.Move(X64Register.Rax, X64Register.Rax, wide: false);
        }
    }

    /// <summary>dst = pcBase + delta.</summary>
    private void PcPlus(X64Register dst, long delta)
    {
        if (delta is >= int.MinValue and <= int.MaxValue)
        {
            _emitter.LoadAddress(dst, X64Memory.At(PcBase, (int)delta));
        }
        else
        {
            _emitter.MoveImmediate(dst, delta);
            _emitter.Alu(X64AluOp.Add, dst, PcBase);
        }
    }

    /// <summary>
    /// rax holds the next pc. Counts the block's <paramref name="retired"/> instructions against the limit;
    /// while it stays positive and the target (<paramref name="target"/> bytes from the page base, or
    /// computed from rax when null) is a translated slot of this page, jumps into that translation.
    /// Otherwise leaves.
    /// </summary>
    private void ChainOrExit(int retired, long? target)
    {
        var e = _emitter;
        var rcx = X64Register.Rcx;
        if (target is { } t && (t < 0 || t >= 0x1000))
        {
            Exit(retired, interpretNext: false);
            return;
        }

        e.AluImmediate(X64AluOp.Sub, Limit, retired);
        var spent = e.JumpIf(X64Condition.LessOrEqual);
        var other = -1;
        if (target is { } slot)
        {
            e.Load(rcx, X64Memory.At(Entries, (int)(slot >> 1) * 8));
        }
        else
        {
            e.Move(rcx, X64Register.Rax);
            e.Alu(X64AluOp.Sub, rcx, PcBase);
            e.AluImmediate(X64AluOp.Cmp, rcx, 0xFFF);
            other = e.JumpIf(X64Condition.Above);
            e.Load(rcx, X64Memory.Indexed(Entries, rcx, 4));
        }

        e.AluImmediate(X64AluOp.Cmp, rcx, (int)Decode.DecodeCache.Refused);
        var untranslated = e.JumpIf(X64Condition.BelowOrEqual);
        e.AluImmediate(X64AluOp.Add, rcx, PrologueLength);
        e.JumpTo(rcx);
        e.Bind(spent);
        e.Bind(untranslated);
        if (other >= 0)
        {
            e.Bind(other);
        }

        Leave(interpretNext: false);
    }

    /// <summary>Counts <paramref name="retired"/> against the limit and leaves with the pc in rax.</summary>
    private void Exit(int retired, bool interpretNext)
    {
        if (retired != 0)
        {
            _emitter.AluImmediate(X64AluOp.Sub, Limit, retired);
        }

        Leave(interpretNext);
    }

    /// <summary>*nextPc = rax (| InterpretNext); return the limit left.</summary>
    private void Leave(bool interpretNext)
    {
        if (interpretNext)
        {
            _emitter.AluImmediate(X64AluOp.Or, X64Register.Rax, (int)InterpretNext);
        }

        _emitter.Store(X64Memory.At(NextPc), X64Register.Rax, 8);
        _emitter.Move(X64Register.Rax, Limit);
        _emitter.Return();
    }
}
