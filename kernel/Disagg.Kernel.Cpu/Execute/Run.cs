using System.Runtime.CompilerServices;
using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;
using Disagg.Kernel.Cpu.Translate;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The run loop. A block starts at a TLB lookup of the pc (fetch permission plus the decoded page of
/// its frame) and runs decoded ops straight through until a taken branch, a jump, a trap, an
/// out-of-line op that changes state, or the sentinel at the end of the page. Interrupts, the timer,
/// host invalidations and the budget are checked only at block starts. Nothing here allocates or locks.
/// The integer base is executed inline; F, D, A, CSRs and system ops go to <see cref="ExecuteOutOfLine"/>.
/// This file is long on purpose: the dispatch must stay one method (one jump table, locals in registers).
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>How many instructions may pass between timer / invalidation checks (~30 us at 300 MIPS).</summary>
    private const long CheckInterval = 8192;

    private enum Flow
    {
        Next,
        Jump,
        Exit,
    }

    private ExitReason _exitReason;

    /// <summary>
    /// Runs at most about <paramref name="maxInstructions"/> instructions (a block in flight may finish
    /// a few past it) and says why it stopped.
    /// </summary>
    public ExitReason Run(long maxInstructions)
    {
        if (maxInstructions <= 0)
        {
            return ExitReason.SliceDone;
        }

        _parkValid = false; // a parked access not completed is executed again
        _sliceBudget = maxInstructions;
        _liveBudget = maxInstructions;
        _sliceNotRetired = 0;
        var left = Loop(maxInstructions);
        _instret += (ulong)(maxInstructions - left - _sliceNotRetired);
        _sliceBudget = 0;
        _liveBudget = 0;
        _sliceNotRetired = 0;
        return _exitReason;
    }

    // Fully optimized from the first call: tiering would run this loop as Tier0 and then OSR code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long Loop(long budget)
    {
        var x = _x;
        var amask = _addressMask;
        var pc = _pc;
        long checkAt = budget;
        var translating = _translator != null;
        var interpretNext = false;
        TlbEntry* tlb;
        DecodedOp* op;
        DecodedOp* opBase;
        ulong pcBase;
        byte* hostPage;

    blockStart:
        if (budget <= checkAt)
        {
            if (budget <= 0)
            {
                _pc = pc;
                _exitReason = ExitReason.SliceDone;
                return budget;
            }

            checkAt = budget > CheckInterval ? budget - CheckInterval : 0;
            PollHost();
        }

        var pending = (Volatile.Read(ref _hostPending) | _softwarePending) & _deliverable;
        if (pending != 0)
        {
            _pc = pc;
            if ((pending & KickBit) != 0)
            {
                Interlocked.And(ref _hostPending, ~KickBit);
                _exitReason = ExitReason.Kicked;
                return budget;
            }

            if (TakeInterrupt())
            {
                pc = _pc;
                budget--;
                _sliceNotRetired++;
            }
        }

        tlb = _tlb;
        {
            var te = tlb + Tlb.FetchOffset + ((pc >> 12) & Tlb.IndexMask);
            if (te->ExecTag != (pc & Tlb.Mask1))
            {
                _pc = pc;
                if (!FillFetch(pc))
                {
                    pc = _pc;
                    budget--;
                    _sliceNotRetired++;
                    goto blockStart;
                }
            }

            pcBase = pc & Tlb.Mask1;
            opBase = te->Code;
            hostPage = (byte*)(te->Addend + pcBase);
            op = opBase + ((pc & 0xFFF) >> 1);
        }

        if (translating)
        {
            if (!interpretNext)
            {
                // Chained translations run at most until the next checkpoint, as chained interpreted jumps do.
                var retired = EnterTranslation(tlb, pc, pcBase, opBase, hostPage, budget - checkAt);
                if (retired >= 0)
                {
                    budget -= retired;
                    pc = x[NextPcSlot];
                    interpretNext = (pc & BlockTranslator.InterpretNext) != 0;
                    pc &= ~BlockTranslator.InterpretNext;
                    goto blockStart;
                }
            }

            interpretNext = false;
        }

        // The iterator steps over the op just executed; paths that must not step use goto dispatch.
        for (; ; op += op->Len)
        {
        dispatch:
            budget--;
            switch (op->Kind)
            {
                case Op.Undecoded:
                    budget++;
                    DecodeSlot(op, opBase, hostPage);
                    goto dispatch;
                case Op.BlockEnd:
                    budget++;
                    pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                    goto blockStart;
                case Op.CrossPage:
                    budget++;
                    pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                    _pc = pc;
                    if (!FetchAcrossPages(pc))
                    {
                        pc = _pc;
                        budget--;
                        _sliceNotRetired++;
                        goto blockStart;
                    }

                    opBase = _scratch;
                    pcBase = pc;
                    op = _scratch;
                    goto dispatch;
                case Op.Nop:
                    continue;
                case Op.Lui:
                case Op.Li:
                    x[op->Rd] = (ulong)op->Imm;
                    continue;
                case Op.Mv:
                    x[op->Rd] = x[op->Rs1];
                    continue;
                case Op.LuiAddi:
                    x[op->Rd] = (ulong)op->Imm;
                    budget--;
                    continue;
                case Op.AuipcAddi:
                    x[op->Rd] = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)op->Imm;
                    budget--;
                    continue;
                case Op.Auipc32Addi:
                    x[op->Rd] = (ulong)(int)(uint)(pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)op->Imm);
                    budget--;
                    continue;
                case Op.Auipc:
                    x[op->Rd] = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)op->Imm;
                    continue;
                case Op.Auipc32:
                    x[op->Rd] = (ulong)(int)(uint)(pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)op->Imm);
                    continue;
                case Op.Jal:
                    {
                        var ipc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        x[op->Rd] = ipc + (ulong)(op->Len * 2);
                        pc = ipc + (ulong)op->Imm;
                        goto jump;
                    }

                case Op.Jal32:
                    {
                        var ipc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        x[op->Rd] = (ulong)(int)(uint)(ipc + (ulong)(op->Len * 2));
                        pc = (ipc + (ulong)op->Imm) & amask;
                        goto jump;
                    }

                case Op.Jalr:
                    {
                        var target = (x[op->Rs1] + (ulong)op->Imm) & ~1UL;
                        x[op->Rd] = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)(op->Len * 2);
                        pc = target;
                        goto jump;
                    }

                case Op.Jalr32:
                    {
                        var target = (x[op->Rs1] + (ulong)op->Imm) & ~1UL & amask;
                        x[op->Rd] = (ulong)(int)(uint)(pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)(op->Len * 2));
                        pc = target;
                        goto jump;
                    }

                case Op.Beq:
                    if (x[op->Rs1] == x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bne:
                    if (x[op->Rs1] != x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Blt:
                    if ((long)x[op->Rs1] < (long)x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bge:
                    if ((long)x[op->Rs1] >= (long)x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bltu:
                    if (x[op->Rs1] < x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bgeu:
                    if (x[op->Rs1] >= x[op->Rs2])
                    {
                        goto taken;
                    }

                    continue;

                case Op.Lb:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask1))
                        {
                            x[op->Rd] = (ulong)(sbyte)*(byte*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 1, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = (ulong)(sbyte)v;
                        continue;
                    }

                case Op.Lbu:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask1))
                        {
                            x[op->Rd] = (ulong)*(byte*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 1, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = v;
                        continue;
                    }

                case Op.Lh:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask2))
                        {
                            x[op->Rd] = (ulong)(short)*(ushort*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 2, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = (ulong)(short)v;
                        continue;
                    }

                case Op.Lhu:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask2))
                        {
                            x[op->Rd] = (ulong)*(ushort*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 2, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = v;
                        continue;
                    }

                case Op.Lw:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask4))
                        {
                            x[op->Rd] = (ulong)(int)*(uint*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 4, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = (ulong)(int)v;
                        continue;
                    }

                case Op.Lwu:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask4))
                        {
                            x[op->Rd] = (ulong)*(uint*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 4, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = v;
                        continue;
                    }

                case Op.Ld:
                    {
                        var va = x[op->Rs1] + (ulong)op->Imm;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->ReadTag == (va & Tlb.Mask8))
                        {
                            x[op->Rd] = *(ulong*)(e->Addend + va);
                            continue;
                        }

                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        if (!LoadSlow(va, 8, out var v))
                        {
                            goto trapped;
                        }

                        x[op->Rd] = v;
                        continue;
                    }

                case Op.Sb:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask1))
                        {
                            *(byte*)(e->Addend + va) = (byte)x[op->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 1, x[op->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sh:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask2))
                        {
                            *(ushort*)(e->Addend + va) = (ushort)x[op->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 2, x[op->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sw:
                    {
                        var va = (x[op->Rs1] + (ulong)op->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask4))
                        {
                            *(uint*)(e->Addend + va) = (uint)x[op->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 4, x[op->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sd:
                    {
                        var va = x[op->Rs1] + (ulong)op->Imm;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask8))
                        {
                            *(ulong*)(e->Addend + va) = x[op->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 8, x[op->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Addi: x[op->Rd] = x[op->Rs1] + (ulong)op->Imm; continue;
                case Op.Slti: x[op->Rd] = (long)x[op->Rs1] < op->Imm ? 1UL : 0; continue;
                case Op.Sltiu: x[op->Rd] = x[op->Rs1] < (ulong)op->Imm ? 1UL : 0; continue;
                case Op.Xori: x[op->Rd] = x[op->Rs1] ^ (ulong)op->Imm; continue;
                case Op.Ori: x[op->Rd] = x[op->Rs1] | (ulong)op->Imm; continue;
                case Op.Andi: x[op->Rd] = x[op->Rs1] & (ulong)op->Imm; continue;
                case Op.Slli: x[op->Rd] = x[op->Rs1] << (int)op->Imm; continue;
                case Op.Srli: x[op->Rd] = x[op->Rs1] >> (int)op->Imm; continue;
                case Op.Srai: x[op->Rd] = (ulong)((long)x[op->Rs1] >> (int)op->Imm); continue;
                case Op.Add: x[op->Rd] = x[op->Rs1] + x[op->Rs2]; continue;
                case Op.Sub: x[op->Rd] = x[op->Rs1] - x[op->Rs2]; continue;
                case Op.Sll: x[op->Rd] = x[op->Rs1] << (int)(x[op->Rs2] & 63); continue;
                case Op.Slt: x[op->Rd] = (long)x[op->Rs1] < (long)x[op->Rs2] ? 1UL : 0; continue;
                case Op.Sltu: x[op->Rd] = x[op->Rs1] < x[op->Rs2] ? 1UL : 0; continue;
                case Op.Xor: x[op->Rd] = x[op->Rs1] ^ x[op->Rs2]; continue;
                case Op.Srl: x[op->Rd] = x[op->Rs1] >> (int)(x[op->Rs2] & 63); continue;
                case Op.Sra: x[op->Rd] = (ulong)((long)x[op->Rs1] >> (int)(x[op->Rs2] & 63)); continue;
                case Op.Or: x[op->Rd] = x[op->Rs1] | x[op->Rs2]; continue;
                case Op.And: x[op->Rd] = x[op->Rs1] & x[op->Rs2]; continue;
                case Op.Addiw: x[op->Rd] = (ulong)(int)(uint)(x[op->Rs1] + (ulong)op->Imm); continue;
                case Op.Slliw: x[op->Rd] = (ulong)(int)((uint)x[op->Rs1] << (int)op->Imm); continue;
                case Op.Srliw: x[op->Rd] = (ulong)(int)((uint)x[op->Rs1] >> (int)op->Imm); continue;
                case Op.Sraiw: x[op->Rd] = (ulong)((int)x[op->Rs1] >> (int)op->Imm); continue;
                case Op.Addw: x[op->Rd] = (ulong)(int)(uint)(x[op->Rs1] + x[op->Rs2]); continue;
                case Op.Subw: x[op->Rd] = (ulong)(int)(uint)(x[op->Rs1] - x[op->Rs2]); continue;
                case Op.Sllw: x[op->Rd] = (ulong)(int)((uint)x[op->Rs1] << (int)(x[op->Rs2] & 31)); continue;
                case Op.Srlw: x[op->Rd] = (ulong)(int)((uint)x[op->Rs1] >> (int)(x[op->Rs2] & 31)); continue;
                case Op.Sraw: x[op->Rd] = (ulong)((int)x[op->Rs1] >> (int)(x[op->Rs2] & 31)); continue;
                case Op.Mul: x[op->Rd] = x[op->Rs1] * x[op->Rs2]; continue;
                case Op.Mulw: x[op->Rd] = (ulong)(int)(uint)(x[op->Rs1] * x[op->Rs2]); continue;
                case Op.Mulh:
                case Op.Mulhsu:
                case Op.Mulhu:
                case Op.Div:
                case Op.Divu:
                case Op.Rem:
                case Op.Remu:
                case Op.Divw:
                case Op.Divuw:
                case Op.Remw:
                case Op.Remuw:
                case Op.Mulh32:
                case Op.Mulhsu32:
                case Op.Mulhu32:
                    x[op->Rd] = MultiplyDivide(op->Kind, x[op->Rs1], x[op->Rs2]);
                    continue;

                default:
                    {
                        _pc = pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3);
                        _liveBudget = budget;
                        var flow = ExecuteOutOfLine(op);
                        if (flow == Flow.Next)
                        {
                            if (translating)
                            {
                                // Give the translator a block start right after the op it cannot translate.
                                pc = pcBase + ((ulong)((byte*)(op + op->Len) - (byte*)opBase) >> 3);
                                goto blockStart;
                            }

                            continue;
                        }

                        pc = _pc;
                        if (flow == Flow.Jump)
                        {
                            goto blockStart;
                        }

                        return budget;
                    }
            }

        taken:
            // Decode marked branches whose target lies in the same page (Rs3 = 1): step the op pointer.
            if (op->Rs3 != 0 && budget > checkAt && !translating)
            {
                op += op->Imm >> 1;
                goto dispatch;
            }

            pc = (pcBase + ((ulong)((byte*)op - (byte*)opBase) >> 3) + (ulong)op->Imm) & amask;

        jump:
            // A jump within the page chains straight to its target's op. Pending interrupts are then
            // seen at the next checkpoint (at most CheckInterval instructions away) instead of now.
            if (budget > checkAt && !translating && ((pc ^ pcBase) & ~0xFFFUL) == 0 && (pcBase & 0xFFF) == 0)
            {
                op = opBase + ((pc & 0xFFF) >> 1);
                goto dispatch;
            }

            goto blockStart;

        trapped:
            if (_mmioParked)
            {
                ParkMmio(op);
                return budget;
            }

            pc = _pc;
            _sliceNotRetired++;
            goto blockStart;
        }
    }
}
