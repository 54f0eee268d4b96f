using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Mmu;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// Ops the run loop does not execute inline: system instructions, CSRs, atomics and floating point.
/// On entry _pc is the instruction's address. <see cref="Flow.Next"/> continues the block;
/// <see cref="Flow.Jump"/> ends it at _pc (a trap, or state that the block start must re-read);
/// <see cref="Flow.Exit"/> leaves <see cref="Run"/> with _exitReason.
/// </summary>
public sealed unsafe partial class Hart
{
    private Flow ExecuteOutOfLine(DecodedOp* op)
    {
        var kind = op->Kind;
        if (kind >= Op.Flw)
        {
            if (kind <= Op.Fsd)
            {
                return (_sstatus & SstatusFs) == 0 ? Illegal(op) : FloatMemory(op) ? Flow.Next : RefuseParkedMmio();
            }

            return ExecuteFloat(op) ? Flow.Next : Illegal(op);
        }

        if (kind >= Op.LrW)
        {
            return ExecuteAtomic(op) ? Flow.Next : Flow.Jump;
        }

        switch (kind)
        {
            case Op.Fence:
                Interlocked.MemoryBarrier(); // the decoder keeps only fences the host needs (Decoder.Fence)
                return Flow.Next;
            case Op.FenceI:
                // Another hart's stores to code become visible here (Zifencei); our own already invalidated.
                FlushTranslations();
                _pc = (_pc + ((ulong)op->Len * 2)) & _addressMask;
                return Flow.Jump;
            case Op.Ecall:
                if (_privilege == Privilege.User)
                {
                    RaiseException(CauseUserEcall, 0);
                    return Flow.Jump;
                }

                _exitReason = ExitReason.SupervisorCall;
                return Flow.Exit;
            case Op.Ebreak:
                RaiseException(CauseBreakpoint, _pc);
                return Flow.Jump;
            case Op.Sret:
                if (_privilege == Privilege.User)
                {
                    return Illegal(op);
                }

                ReturnFromSupervisor();
                return Flow.Jump;
            case Op.Wfi:
                return WaitForInterrupt(op);
            case Op.SfenceVma:
                if (_privilege == Privilege.User)
                {
                    return Illegal(op);
                }

                FenceVma(op->Rs1 == 0 ? null : _x[op->Rs1]);
                _pc = (_pc + 4) & _addressMask;
                return Flow.Jump;
            case Op.Csrrw:
            case Op.Csrrs:
            case Op.Csrrc:
            case Op.Csrrwi:
            case Op.Csrrsi:
            case Op.Csrrci:
                if (!ExecuteCsr(op))
                {
                    RaiseException(CauseIllegalInstruction, (ulong)op->Imm >> 12);
                    return Flow.Jump;
                }

                // A CSR write may enable interrupts, change translation or the FP state: end the block.
                _pc = (_pc + 4) & _addressMask;
                return Flow.Jump;
            default:
                return Illegal(op);
        }
    }

    private Flow Illegal(DecodedOp* op)
    {
        var bits = op->Kind == Op.Illegal ? (ulong)op->Imm : RawInstruction();
        RaiseException(CauseIllegalInstruction, bits);
        return Flow.Jump;
    }

    /// <summary>The raw bits at _pc, for stval of ops that are legal encodings but illegal now (FP with FS off, SRET in U-mode).</summary>
    private ulong RawInstruction()
    {
        if (!Translate(_pc, Access.Execute, out var pa, out _))
        {
            return 0;
        }

        var host = _memory.Frame(pa >> 12, false);
        if (host == null)
        {
            return 0;
        }

        ulong low = *(ushort*)(host + (pa & 0xFFF));
        if ((low & 3) != 3)
        {
            return low;
        }

        if ((pa & 0xFFF) == 0xFFE)
        {
            return low;
        }

        return low | ((ulong)*(ushort*)(host + (pa & 0xFFF) + 2) << 16);
    }

    private Flow WaitForInterrupt(DecodedOp* op)
    {
        if (_privilege == Privilege.User)
        {
            return Illegal(op);
        }

        _pc = (_pc + (ulong)op->Len * 2) & _addressMask;
        PollHost();
        if ((PendingBits() & (int)_sie) != 0)
        {
            return Flow.Jump;
        }

        _exitReason = ExitReason.Idle;
        return Flow.Exit;
    }

    /// <summary>
    /// SFENCE.VMA. ASIDs are not implemented, so rs2 is ignored. With an address, only that page's
    /// entries go, unless a superpage was cached: its 4 KiB pieces sit at other indices.
    /// </summary>
    private void FenceVma(ulong? address)
    {
        if (address is not { } va || _tlbHasSuperpages)
        {
            FlushTlb();
            return;
        }

        var index = (va >> 12) & Tlb.IndexMask;
        ClearEntry(_tlbUser + index);
        ClearEntry(_tlbSupervisor + index);
        ClearEntry(_tlbUser + Tlb.FetchOffset + index);
        ClearEntry(_tlbSupervisor + Tlb.FetchOffset + index);
    }

    private static void ClearEntry(TlbEntry* e)
    {
        e->ReadTag = Tlb.Invalid;
        e->WriteTag = Tlb.Invalid;
        e->ExecTag = Tlb.Invalid;
        e->Code = null;
        e->Frame = ulong.MaxValue;
    }
}
