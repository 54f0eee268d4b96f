namespace Disagg.Kernel.Cpu;

/// <summary>
/// Trap entry and SRET. Every exception and interrupt goes to the guest's S-mode handler, as with
/// OpenSBI's delegation; the one exception is ECALL from S-mode, which is the host's SBI call.
/// Interrupt priority is SEI > SSI > STI (priv spec 3.1.9, restricted to S-level sources).
/// </summary>
public sealed unsafe partial class Hart
{
    internal const ulong CauseMisalignedFetch = 0;
    internal const ulong CauseFetchAccess = 1;
    internal const ulong CauseIllegalInstruction = 2;
    internal const ulong CauseBreakpoint = 3;
    internal const ulong CauseMisalignedLoad = 4;
    internal const ulong CauseLoadAccess = 5;
    internal const ulong CauseMisalignedStore = 6;
    internal const ulong CauseStoreAccess = 7;
    internal const ulong CauseUserEcall = 8;
    internal const ulong CauseFetchPageFault = 12;
    internal const ulong CauseLoadPageFault = 13;
    internal const ulong CauseStorePageFault = 15;

    private long _statTraps;

    /// <summary>Takes a synchronous exception at <see cref="_pc"/>; afterwards _pc is the handler.</summary>
    private void RaiseException(ulong cause, ulong tval) => EnterTrap(cause, tval, interrupt: false);

    /// <summary>Takes the highest-priority deliverable interrupt; false if, re-checked, none is left.</summary>
    private bool TakeInterrupt()
    {
        var pending = PendingBits() & _deliverable;
        if ((pending & (int)Interrupts.SupervisorExternal) != 0 && ExternalLineLow())
        {
            pending &= ~(int)Interrupts.SupervisorExternal;
            if ((pending & 0x222) == 0)
            {
                return false;
            }
        }

        ulong cause = (pending & (int)Interrupts.SupervisorExternal) != 0 ? 9UL
            : (pending & (int)Interrupts.SupervisorSoftware) != 0 ? 1UL
            : 5UL;
        EnterTrap(cause, 0, interrupt: true);
        return true;
    }

    private void EnterTrap(ulong cause, ulong tval, bool interrupt)
    {
        _statTraps++;
        _sepc = _pc;
        _scause = interrupt ? cause | (_rv64 ? 1UL << 63 : 1UL << 31) : cause;
        _stval = tval & _addressMask;
        var s = _sstatus & ~(SstatusSpp | SstatusSpie | SstatusSie);
        if (_privilege == Privilege.Supervisor)
        {
            s |= SstatusSpp;
        }

        if ((_sstatus & SstatusSie) != 0)
        {
            s |= SstatusSpie;
        }

        _sstatus = s;
        _reservationValid = false;
        Privilege = Privilege.Supervisor;
        var target = _stvec & ~3UL;
        if (interrupt && (_stvec & 1) != 0)
        {
            target += 4 * cause;
        }

        _pc = target & _addressMask;
    }

    private void ReturnFromSupervisor()
    {
        var s = _sstatus;
        var previous = (s & SstatusSpp) != 0 ? Privilege.Supervisor : Privilege.User;
        s &= ~(SstatusSie | SstatusSpp);
        if ((s & SstatusSpie) != 0)
        {
            s |= SstatusSie;
        }

        s |= SstatusSpie;
        _sstatus = s;
        _reservationValid = false;
        Privilege = previous;
        _pc = _sepc & _addressMask;
    }
}
