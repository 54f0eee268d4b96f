using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The run loop. A block starts at a TLB lookup of the pc (fetch permission plus the decoded page of
/// its frame) and runs decoded ops straight through until a taken branch, a jump, a trap, an
/// out-of-line op that changes state, or the sentinel at the end of the page. Interrupts, the timer,
/// host invalidations and the budget are checked only at block starts. Nothing here allocates or locks.
/// The integer base is executed inline; F, D, A, CSRs and system ops go to <see cref="ExecuteOutOfLine"/>.
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

    private long Loop(long budget)
    {
        var x = _x;
        var amask = _addressMask;
        var pc = _pc;
        long checkAt = budget;
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

            TakeInterrupt();
            pc = _pc;
            budget--;
            _sliceNotRetired++;
        }

        tlb = _tlb;
        {
            var te = tlb + ((pc >> 12) & Tlb.IndexMask);
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

        while (true)
        {
            var cur = op;
            op += cur->Len;
            budget--;
            switch (cur->Kind)
            {
                case Op.Undecoded:
                    budget++;
                    DecodeSlot(cur, opBase, hostPage);
                    op = cur;
                    continue;
                case Op.BlockEnd:
                    budget++;
                    pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                    goto blockStart;
                case Op.CrossPage:
                    budget++;
                    pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
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
                    continue;
                case Op.Nop:
                    continue;
                case Op.Lui:
                case Op.Li:
                    x[cur->Rd] = (ulong)cur->Imm;
                    continue;
                case Op.Mv:
                    x[cur->Rd] = x[cur->Rs1];
                    continue;
                case Op.Auipc:
                    x[cur->Rd] = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3) + (ulong)cur->Imm;
                    continue;
                case Op.Auipc32:
                    x[cur->Rd] = (ulong)(int)(uint)(pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3) + (ulong)cur->Imm);
                    continue;
                case Op.Jal:
                    {
                        var ipc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                        x[cur->Rd] = ipc + (ulong)(cur->Len * 2);
                        pc = ipc + (ulong)cur->Imm;
                        goto blockStart;
                    }

                case Op.Jal32:
                    {
                        var ipc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                        x[cur->Rd] = (ulong)(int)(uint)(ipc + (ulong)(cur->Len * 2));
                        pc = (ipc + (ulong)cur->Imm) & amask;
                        goto blockStart;
                    }

                case Op.Jalr:
                    {
                        var target = (x[cur->Rs1] + (ulong)cur->Imm) & ~1UL;
                        x[cur->Rd] = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3) + (ulong)(cur->Len * 2);
                        pc = target;
                        goto blockStart;
                    }

                case Op.Jalr32:
                    {
                        var target = (x[cur->Rs1] + (ulong)cur->Imm) & ~1UL & amask;
                        x[cur->Rd] = (ulong)(int)(uint)(pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3) + (ulong)(cur->Len * 2));
                        pc = target;
                        goto blockStart;
                    }

                case Op.Beq:
                    if (x[cur->Rs1] == x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bne:
                    if (x[cur->Rs1] != x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Blt:
                    if ((long)x[cur->Rs1] < (long)x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bge:
                    if ((long)x[cur->Rs1] >= (long)x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bltu:
                    if (x[cur->Rs1] < x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;
                case Op.Bgeu:
                    if (x[cur->Rs1] >= x[cur->Rs2])
                    {
                        goto taken;
                    }

                    continue;

                case Op.Lb:
                case Op.Lbu:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        ulong v;
                        if (e->ReadTag == (va & Tlb.Mask1))
                        {
                            v = *(byte*)(e->Addend + va);
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!LoadSlow(va, 1, out v))
                            {
                                goto trapped;
                            }
                        }

                        x[cur->Rd] = cur->Kind == Op.Lb ? (ulong)(sbyte)v : (byte)v;
                        continue;
                    }

                case Op.Lh:
                case Op.Lhu:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        ulong v;
                        if (e->ReadTag == (va & Tlb.Mask2))
                        {
                            v = *(ushort*)(e->Addend + va);
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!LoadSlow(va, 2, out v))
                            {
                                goto trapped;
                            }
                        }

                        x[cur->Rd] = cur->Kind == Op.Lh ? (ulong)(short)v : (ushort)v;
                        continue;
                    }

                case Op.Lw:
                case Op.Lwu:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        ulong v;
                        if (e->ReadTag == (va & Tlb.Mask4))
                        {
                            v = *(uint*)(e->Addend + va);
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!LoadSlow(va, 4, out v))
                            {
                                goto trapped;
                            }
                        }

                        x[cur->Rd] = cur->Kind == Op.Lw ? (ulong)(int)v : (uint)v;
                        continue;
                    }

                case Op.Ld:
                    {
                        var va = x[cur->Rs1] + (ulong)cur->Imm;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        ulong v;
                        if (e->ReadTag == (va & Tlb.Mask8))
                        {
                            v = *(ulong*)(e->Addend + va);
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!LoadSlow(va, 8, out v))
                            {
                                goto trapped;
                            }
                        }

                        x[cur->Rd] = v;
                        continue;
                    }

                case Op.Sb:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask1))
                        {
                            *(byte*)(e->Addend + va) = (byte)x[cur->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 1, x[cur->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sh:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask2))
                        {
                            *(ushort*)(e->Addend + va) = (ushort)x[cur->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 2, x[cur->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sw:
                    {
                        var va = (x[cur->Rs1] + (ulong)cur->Imm) & amask;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask4))
                        {
                            *(uint*)(e->Addend + va) = (uint)x[cur->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 4, x[cur->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Sd:
                    {
                        var va = x[cur->Rs1] + (ulong)cur->Imm;
                        var e = tlb + ((va >> 12) & Tlb.IndexMask);
                        if (e->WriteTag == (va & Tlb.Mask8))
                        {
                            *(ulong*)(e->Addend + va) = x[cur->Rs2];
                        }
                        else
                        {
                            _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                            if (!StoreSlow(va, 8, x[cur->Rs2]))
                            {
                                goto trapped;
                            }
                        }

                        continue;
                    }

                case Op.Addi: x[cur->Rd] = x[cur->Rs1] + (ulong)cur->Imm; continue;
                case Op.Slti: x[cur->Rd] = (long)x[cur->Rs1] < cur->Imm ? 1UL : 0; continue;
                case Op.Sltiu: x[cur->Rd] = x[cur->Rs1] < (ulong)cur->Imm ? 1UL : 0; continue;
                case Op.Xori: x[cur->Rd] = x[cur->Rs1] ^ (ulong)cur->Imm; continue;
                case Op.Ori: x[cur->Rd] = x[cur->Rs1] | (ulong)cur->Imm; continue;
                case Op.Andi: x[cur->Rd] = x[cur->Rs1] & (ulong)cur->Imm; continue;
                case Op.Slli: x[cur->Rd] = x[cur->Rs1] << (int)cur->Imm; continue;
                case Op.Srli: x[cur->Rd] = x[cur->Rs1] >> (int)cur->Imm; continue;
                case Op.Srai: x[cur->Rd] = (ulong)((long)x[cur->Rs1] >> (int)cur->Imm); continue;
                case Op.Add: x[cur->Rd] = x[cur->Rs1] + x[cur->Rs2]; continue;
                case Op.Sub: x[cur->Rd] = x[cur->Rs1] - x[cur->Rs2]; continue;
                case Op.Sll: x[cur->Rd] = x[cur->Rs1] << (int)(x[cur->Rs2] & 63); continue;
                case Op.Slt: x[cur->Rd] = (long)x[cur->Rs1] < (long)x[cur->Rs2] ? 1UL : 0; continue;
                case Op.Sltu: x[cur->Rd] = x[cur->Rs1] < x[cur->Rs2] ? 1UL : 0; continue;
                case Op.Xor: x[cur->Rd] = x[cur->Rs1] ^ x[cur->Rs2]; continue;
                case Op.Srl: x[cur->Rd] = x[cur->Rs1] >> (int)(x[cur->Rs2] & 63); continue;
                case Op.Sra: x[cur->Rd] = (ulong)((long)x[cur->Rs1] >> (int)(x[cur->Rs2] & 63)); continue;
                case Op.Or: x[cur->Rd] = x[cur->Rs1] | x[cur->Rs2]; continue;
                case Op.And: x[cur->Rd] = x[cur->Rs1] & x[cur->Rs2]; continue;
                case Op.Addiw: x[cur->Rd] = (ulong)(int)(uint)(x[cur->Rs1] + (ulong)cur->Imm); continue;
                case Op.Slliw: x[cur->Rd] = (ulong)(int)((uint)x[cur->Rs1] << (int)cur->Imm); continue;
                case Op.Srliw: x[cur->Rd] = (ulong)(int)((uint)x[cur->Rs1] >> (int)cur->Imm); continue;
                case Op.Sraiw: x[cur->Rd] = (ulong)((int)x[cur->Rs1] >> (int)cur->Imm); continue;
                case Op.Addw: x[cur->Rd] = (ulong)(int)(uint)(x[cur->Rs1] + x[cur->Rs2]); continue;
                case Op.Subw: x[cur->Rd] = (ulong)(int)(uint)(x[cur->Rs1] - x[cur->Rs2]); continue;
                case Op.Sllw: x[cur->Rd] = (ulong)(int)((uint)x[cur->Rs1] << (int)(x[cur->Rs2] & 31)); continue;
                case Op.Srlw: x[cur->Rd] = (ulong)(int)((uint)x[cur->Rs1] >> (int)(x[cur->Rs2] & 31)); continue;
                case Op.Sraw: x[cur->Rd] = (ulong)((int)x[cur->Rs1] >> (int)(x[cur->Rs2] & 31)); continue;
                case Op.Mul: x[cur->Rd] = x[cur->Rs1] * x[cur->Rs2]; continue;
                case Op.Mulw: x[cur->Rd] = (ulong)(int)(uint)(x[cur->Rs1] * x[cur->Rs2]); continue;
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
                    x[cur->Rd] = MultiplyDivide(cur->Kind, x[cur->Rs1], x[cur->Rs2]);
                    continue;

                default:
                    {
                        _pc = pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3);
                        _liveBudget = budget;
                        var flow = ExecuteOutOfLine(cur);
                        if (flow == Flow.Next)
                        {
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
            pc = (pcBase + ((ulong)((byte*)cur - (byte*)opBase) >> 3) + (ulong)cur->Imm) & amask;
            goto blockStart;

        trapped:
            pc = _pc;
            _sliceNotRetired++;
            goto blockStart;
        }
    }

    /// <summary>Block-start housekeeping every <see cref="CheckInterval"/> instructions: host invalidations and the timer.</summary>
    private void PollHost()
    {
        var generation = _memory.Generation;
        if (generation != _seenGeneration)
        {
            _seenGeneration = generation;
            FlushTranslations();
        }

        if (_timerDeadline != ulong.MaxValue && (Volatile.Read(ref _hostPending) & (int)Interrupts.SupervisorTimer) == 0 && Time >= _timerDeadline)
        {
            Interlocked.Or(ref _hostPending, (int)Interrupts.SupervisorTimer);
        }
    }

    private void DecodeSlot(DecodedOp* slot, DecodedOp* opBase, byte* hostPage)
    {
        var offset = (uint)((byte*)slot - (byte*)opBase) >> 3;
        _statDecodes++;
        uint raw = *(ushort*)(hostPage + offset);
        if ((raw & 3) == 3)
        {
            if (offset == 0xFFE)
            {
                *slot = new DecodedOp { Kind = Op.CrossPage, Len = 2 };
                return;
            }

            raw |= (uint)*(ushort*)(hostPage + offset + 2) << 16;
        }

        *slot = Decoder.Decode(raw, _rv64);
    }
}
