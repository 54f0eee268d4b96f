using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// Loads and stores a device model answers later (<see cref="MmioResult.Pending"/>, Xen's ioreq). The slow
/// path records the access and returns as for a trap, but no trap was taken; the run loop then parks the
/// op (its kind, destination and length) and returns <see cref="ExitReason.MmioPending"/> with the pc at the
/// access, not retired: the state is precise, whatever the host does next (save, destroy, wait). The host's
/// answer goes in with <see cref="CompleteMmio"/>. Translated code never gets here: a TLB miss (every MMIO
/// access) leaves the block and the interpreter runs the op.
/// </summary>
public sealed unsafe partial class Hart
{
    /// <summary>Set by the slow path for the run loop: the access just attempted was left pending.</summary>
    private bool _mmioParked;

    /// <summary>Set when the hart returned <see cref="ExitReason.MmioPending"/>, until completed or run again.</summary>
    private bool _parkValid;
    private MmioAccess _parked;
    private ulong _parkedVa;
    private Op _parkedKind;
    private byte _parkedRd;
    private byte _parkedLength;

    /// <summary>The access the hart is parked on after <see cref="ExitReason.MmioPending"/>; null otherwise.</summary>
    public MmioAccess? ParkedMmio => _parkValid ? _parked : null;

    /// <summary>
    /// Finishes the parked access: a load's <paramref name="loadValue"/> goes to its destination register
    /// (sign- or zero-extended as the load says), the pc steps over the instruction and it retires.
    /// </summary>
    public void CompleteMmio(ulong loadValue)
    {
        if (!_parkValid)
        {
            throw new InvalidOperationException("cpu: no MMIO access is parked");
        }

        _parkValid = false;
        if (!_parked.IsWrite)
        {
            _x[_parkedRd] = _parkedKind switch
            {
                Op.Lb => (ulong)(sbyte)loadValue,
                Op.Lbu => (byte)loadValue,
                Op.Lh => (ulong)(short)loadValue,
                Op.Lhu => (ushort)loadValue,
                Op.Lw => (ulong)(int)loadValue,
                Op.Lwu => (uint)loadValue,
                _ => loadValue,
            };
        }

        _pc = (_pc + _parkedLength) & _addressMask;
        _instret++;
    }

    /// <summary>The slow path's end for an MMIO answer: true when done, false after a fault or a park.</summary>
    private bool MmioDone(MmioResult result, MmioAccess access, ulong va)
    {
        switch (result)
        {
            case MmioResult.Done:
                return true;
            case MmioResult.Pending:
                _mmioParked = true;
                _parked = access;
                _parkedVa = va;
                return false;
            default:
                RaiseException(access.IsWrite ? CauseStoreAccess : CauseLoadAccess, va);
                return false;
        }
    }

    /// <summary>The run loop parks the integer load or store <paramref name="op"/> whose slow path left it pending.</summary>
    private void ParkMmio(DecodedOp* op)
    {
        _mmioParked = false;
        _parkValid = true;
        _parkedKind = op->Kind;
        _parkedRd = op->Rd;
        _parkedLength = (byte)(op->Len * 2);
        _sliceNotRetired++;
        _exitReason = ExitReason.MmioPending;
    }

    /// <summary>
    /// Only integer loads and stores park: an FP load or store a device model would have to answer is an
    /// access fault (nothing was sent yet, so nothing is lost). Otherwise a trap was taken: jump to it.
    /// </summary>
    private Flow RefuseParkedMmio()
    {
        if (_mmioParked)
        {
            _mmioParked = false;
            RaiseException(_parked.IsWrite ? CauseStoreAccess : CauseLoadAccess, _parkedVa);
        }

        return Flow.Jump;
    }
}
