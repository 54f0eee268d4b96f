using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>Entering and leaving a block: prologue, branches and jumps, chaining, exits and the epilogue.</summary>
internal sealed unsafe partial class BlockTranslator
{
    /// <summary>
    /// Saves the callee-saved host registers and puts the arguments where the block keeps them. The same
    /// bytes for every block: a chained jump skips exactly this (and lands on the block's register loads).
    /// </summary>
    private static void EmitPrologue(X64Emitter e)
    {
        foreach (var r in GuestRegisterMap.CalleeSaved)
        {
            e.Push(r);
        }

        // rdi = x, rsi = tlb, rdx = pcBase, rcx = entries, r8 = limit.
        e.Move(TlbBase, X64Register.Rsi);
        e.Store(X(EntriesSlot), X64Register.Rcx, 8);
        e.Store(X(PcBaseSlot), X64Register.Rdx, 8);
        e.Move(Limit, X64Register.R8);
        e.StoreImmediate32(X(MxcsrSlot), DefaultMxcsr);
        e.LoadMxcsr(X(MxcsrSlot));
    }

    /// <summary>rax holds the next pc: store it and the allocated registers, restore the host's, return the limit left.</summary>
    private void EmitEpilogue()
    {
        var e = _emitter;
        foreach (var patch in _toEpilogue)
        {
            e.Bind(patch);
        }

        e.Store(X(NextPcSlot), X64Register.Rax, 8);
        e.StoreMxcsr(X(MxcsrSlot));
        StoreAllocated();

        e.Move(X64Register.Rax, Limit);
        for (var i = GuestRegisterMap.CalleeSaved.Length - 1; i >= 0; i--)
        {
            e.Pop(GuestRegisterMap.CalleeSaved[i]);
        }

        e.Return();
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
                Read(X64Register.Rcx, op->Rs1);
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
                throw new InvalidOperationException($"cpu: {op->Kind} does not end a block");
        }
    }

    /// <summary>
    /// A conditional branch inside a superblock: compare, and when taken jump to a side exit (laid out after
    /// the body) that chains to the target; otherwise the block goes on. <paramref name="retired"/> counts
    /// the branch itself.
    /// </summary>
    private void EmitBranch(DecodedOp* op, uint offset, int retired)
    {
        var e = _emitter;
        // RV32 compares the low 32 bits (a host register's upper half is not the sign there).
        if (_map.TryHost(op->Rs1, out var h))
        {
            AluWith(X64AluOp.Cmp, h, op->Rs2, _rv64);
        }
        else
        {
            Read(X64Register.Rax, op->Rs1, _rv64);
            AluWith(X64AluOp.Cmp, X64Register.Rax, op->Rs2, _rv64);
        }

        _takenExitPatch[_takenExits] = e.JumpIf(op->Kind switch
        {
            Op.Beq => X64Condition.Equal,
            Op.Bne => X64Condition.NotEqual,
            Op.Blt => X64Condition.Less,
            Op.Bge => X64Condition.GreaterOrEqual,
            Op.Bltu => X64Condition.Below,
            _ => X64Condition.AboveOrEqual,
        });
        _takenExitTarget[_takenExits] = offset + op->Imm;
        _takenExitRetired[_takenExits] = retired;
        _takenExits++;
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

        Write(rd, X64Register.Rax);
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
            _emitter.Load(dst, X(PcBaseSlot));
            if (delta != 0)
            {
                _emitter.AluImmediate(X64AluOp.Add, dst, (int)delta);
            }
        }
        else
        {
            _emitter.MoveImmediate(dst, delta);
            _emitter.Alu(X64AluOp.Add, dst, X(PcBaseSlot));
        }
    }

    /// <summary>
    /// rax holds the next pc. Counts the block's <paramref name="retired"/> instructions against the limit;
    /// while it stays positive and the target has a translation, jumps into it. A target in this page
    /// (<paramref name="target"/> bytes from the page base) is found in the page's entry words; any other
    /// (another page, or computed from rax when <paramref name="target"/> is null) through the fetch TLB.
    /// Otherwise leaves.
    /// </summary>
    private void ChainOrExit(int retired, long? target)
    {
        var e = _emitter;
        var rcx = X64Register.Rcx;
        var rdx = X64Register.Rdx;
        e.AluImmediate(X64AluOp.Sub, Limit, retired);
        _toEpilogue.Add(e.JumpIf(X64Condition.LessOrEqual));
        if (target is { } slot && slot is >= 0 and < 0x1000)
        {
            if (slot == _startOffset)
            {
                // A loop onto the block's own start: a jump within the block, past its prologue and register loads.
                e.BindTo(e.Jump(), _loopHead);
                return;
            }

            var known = _entries[slot >> 1];
            if (known > DecodeCache.Refused)
            {
                // Already translated, in this page: a direct jump (the two are dropped together).
                StoreAllocated();
                e.MoveImmediate(rcx, known + PrologueLength);
                e.JumpTo(rcx);
                return;
            }

            e.Load(rcx, X(EntriesSlot));
            e.Load(rcx, X64Memory.At(rcx, (int)(slot >> 1) * 8));
            e.AluImmediate(X64AluOp.Cmp, rcx, (int)DecodeCache.Refused);
            _toEpilogue.Add(e.JumpIf(X64Condition.BelowOrEqual));
            StoreAllocated();
            e.AluImmediate(X64AluOp.Add, rcx, PrologueLength);
            e.JumpTo(rcx);
            return;
        }

        // The jump cache: the fetch TLB entry of the target page, if its tag matches, names the page's
        // decoded ops and so its entry words.
        var fetch = Tlb.FetchOffset * sizeof(TlbEntry);
        EntryOf(X64Register.Rax);
        e.Move(rdx, X64Register.Rax);
        e.AluImmediate(X64AluOp.And, rdx, -4096);
        e.Alu(X64AluOp.Cmp, rdx, X64Memory.Indexed(TlbBase, rcx, 1, fetch + ExecTagOffset));
        _toEpilogue.Add(e.JumpIf(X64Condition.NotEqual));
        e.Load(rcx, X64Memory.Indexed(TlbBase, rcx, 1, fetch + CodeOffset));
        e.AluImmediate(X64AluOp.Add, rcx, EntriesOffset);
        e.Move(rdx, X64Register.Rax);
        e.AluImmediate(X64AluOp.And, rdx, 0xFFF, wide: false);
        e.Load(rdx, X64Memory.Indexed(rcx, rdx, 4));
        e.AluImmediate(X64AluOp.Cmp, rdx, (int)DecodeCache.Refused);
        _toEpilogue.Add(e.JumpIf(X64Condition.BelowOrEqual));
        e.Store(X(EntriesSlot), rcx, 8);
        e.AluImmediate(X64AluOp.And, X64Register.Rax, -4096);
        e.Store(X(PcBaseSlot), X64Register.Rax, 8);
        StoreAllocated();
        e.AluImmediate(X64AluOp.Add, rdx, PrologueLength);
        e.JumpTo(rdx);
    }

    /// <summary>Counts <paramref name="retired"/> against the limit and leaves with the pc in rax.</summary>
    private void Exit(int retired, bool interpretNext)
    {
        if (retired != 0)
        {
            _emitter.AluImmediate(X64AluOp.Sub, Limit, retired);
        }

        if (interpretNext)
        {
            _emitter.AluImmediate(X64AluOp.Or, X64Register.Rax, (int)InterpretNext);
        }

        _toEpilogue.Add(_emitter.Jump());
    }
}
