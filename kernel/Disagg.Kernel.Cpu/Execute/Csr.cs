namespace Disagg.Kernel.Cpu;

/// <summary>
/// Zicsr and the S-mode CSRs. Access rules (priv spec 2.1): bits 9:8 of the number are the lowest
/// privilege that may access it, bits 11:10 = 3 make it read-only; M-mode and hypervisor CSRs do not
/// exist for this hart. Any violation is an illegal-instruction trap with the instruction as stval.
/// </summary>
public sealed unsafe partial class Hart
{
    private const ulong SstatusSie = 1UL << 1;
    private const ulong SstatusSpie = 1UL << 5;
    private const ulong SstatusSpp = 1UL << 8;
    private const ulong SstatusFs = 3UL << 13;
    private const ulong SstatusSum = 1UL << 18;
    private const ulong SstatusMxr = 1UL << 19;
    private const ulong SstatusWritable = SstatusSie | SstatusSpie | SstatusSpp | SstatusFs | SstatusSum | SstatusMxr;

    private ulong _sstatus;
    private ulong _sie;
    private ulong _stvec;
    private ulong _sepc;
    private ulong _scause;
    private ulong _stval;
    private ulong _sscratch;
    private ulong _satp;
    private ulong _scounteren;
    private ulong _senvcfg;
    private uint _fflags;
    private uint _frm;

    private ulong SstatusValue()
    {
        var v = _sstatus;
        var dirty = (v & SstatusFs) == SstatusFs;
        if (_rv64)
        {
            v |= 2UL << 32; // UXL = 64, read-only
            if (dirty)
            {
                v |= 1UL << 63;
            }
        }
        else if (dirty)
        {
            v |= 1UL << 31;
        }

        return v;
    }

    private ulong CurrentInstret() => _instret + (ulong)(_sliceBudget - _liveBudget - _sliceNotRetired);

    /// <summary>Reads a CSR; false when it does not exist or is not accessible (the caller traps).</summary>
    private bool TryReadCsr(uint csr, out ulong value)
    {
        value = 0;
        if (((csr >> 8) & 3) > (uint)_privilege)
        {
            return false;
        }

        switch (csr)
        {
            case 0x001:
            case 0x002:
            case 0x003:
                if ((_sstatus & SstatusFs) == 0)
                {
                    return false;
                }

                value = csr == 1 ? _fflags : csr == 2 ? _frm : (_frm << 5) | _fflags;
                return true;
            case 0x100: value = SstatusValue(); return true;
            case 0x104: value = _sie; return true;
            case 0x105: value = _stvec; return true;
            case 0x106: value = _scounteren; return true;
            case 0x10A: value = _senvcfg; return true;
            case 0x140: value = _sscratch; return true;
            case 0x141: value = _sepc; return true;
            case 0x142: value = _scause; return true;
            case 0x143: value = _stval; return true;
            case 0x144: value = (ulong)PendingBits(); return true;
            case 0x180: value = _satp; return true;
            default:
                break;
        }

        if (csr is >= 0xC00 and <= 0xC1F || (!_rv64 && csr is >= 0xC80 and <= 0xC9F))
        {
            var index = (int)(csr & 31);
            if (_privilege == Privilege.User && (_scounteren & (1UL << index)) == 0)
            {
                return false;
            }

            var counter = index switch
            {
                0 or 2 => CurrentInstret(), // cycle counts retired instructions: one cycle each
                1 => Time,
                _ => 0UL,
            };
            value = csr >= 0xC80 ? counter >> 32 : counter;
            return true;
        }

        return false;
    }

    /// <summary>Writes a CSR (access already checked by a read or <see cref="CsrWritable"/>). Returns false when the write is illegal.</summary>
    private bool TryWriteCsr(uint csr, ulong value)
    {
        if (!CsrWritable(csr))
        {
            return false;
        }

        if (!_rv64)
        {
            value &= 0xFFFF_FFFF;
        }

        switch (csr)
        {
            case 0x001:
                _fflags = (uint)value & 31;
                _sstatus |= SstatusFs;
                return true;
            case 0x002:
                _frm = (uint)value & 7;
                _sstatus |= SstatusFs;
                return true;
            case 0x003:
                _fflags = (uint)value & 31;
                _frm = (uint)(value >> 5) & 7;
                _sstatus |= SstatusFs;
                return true;
            case 0x100:
                var old = _sstatus;
                _sstatus = value & SstatusWritable;
                if (((old ^ _sstatus) & (SstatusSum | SstatusMxr)) != 0)
                {
                    FlushTlb();
                }

                UpdateDeliverable();
                return true;
            case 0x104:
                _sie = value & 0x222;
                UpdateDeliverable();
                return true;
            case 0x105:
                // Modes 2 and 3 are reserved; WARL: the write is ignored, as QEMU does.
                if ((value & 3) < 2)
                {
                    _stvec = value;
                }

                return true;
            case 0x106: _scounteren = value & 0xFFFF_FFFF; return true;
            case 0x10A: _senvcfg = 0; return true; // no Zicbo*/Svpbmt/Zicfi: every field is read-only zero
            case 0x140: _sscratch = value; return true;
            case 0x141: _sepc = value & ~1UL; return true;
            case 0x142: _scause = value; return true;
            case 0x143: _stval = value; return true;
            case 0x144:
                _softwarePending = (int)(value & 2);
                Interlocked.And(ref _hostPending, ~(int)Interrupts.SupervisorSoftware);
                return true;
            case 0x180:
                WriteSatp(value);
                return true;
            default:
                return false;
        }
    }

    private bool CsrWritable(uint csr)
    {
        if (((csr >> 8) & 3) > (uint)_privilege || (csr >> 10) == 3)
        {
            return false;
        }

        return csr switch
        {
            0x001 or 0x002 or 0x003 => (_sstatus & SstatusFs) != 0,
            0x100 or 0x104 or 0x105 or 0x106 or 0x10A or 0x140 or 0x141 or 0x142 or 0x143 or 0x144 or 0x180 => true,
            _ => false,
        };
    }

    /// <summary>
    /// satp is WARL: an unsupported mode leaves it unchanged (priv spec 4.1.11). ASIDs are not
    /// implemented (the field reads zero), so software falls back to global flushes, which is what the
    /// TLB does anyway.
    /// </summary>
    private void WriteSatp(ulong value)
    {
        if (_rv64)
        {
            var mode = value >> 60;
            if (mode is not (0 or 8))
            {
                return;
            }

            _satp = value & ((0xFUL << 60) | ((1UL << 44) - 1));
        }
        else
        {
            _satp = value & 0x803F_FFFF;
        }

        FlushTlb();
    }

    /// <summary>Executes CSRRW/S/C and their immediate forms. False: illegal instruction.</summary>
    private bool ExecuteCsr(Decode.DecodedOp* op)
    {
        var csr = (uint)(op->Imm & 0xFFF);
        var isImmediate = op->Kind >= Decode.Op.Csrrwi;
        var source = isImmediate ? op->Rs1 : _x[op->Rs1];
        var kind = isImmediate ? op->Kind - (Decode.Op.Csrrwi - Decode.Op.Csrrw) : op->Kind;
        var writes = kind == Decode.Op.Csrrw || op->Rs1 != 0;
        var reads = kind != Decode.Op.Csrrw || op->Rm == 0;

        ulong old = 0;
        if (reads || kind != Decode.Op.Csrrw)
        {
            if (!TryReadCsr(csr, out old))
            {
                return false;
            }
        }
        else if (!CsrWritable(csr))
        {
            return false;
        }

        if (writes)
        {
            var value = kind switch
            {
                Decode.Op.Csrrw => source,
                Decode.Op.Csrrs => old | source,
                _ => old & ~source,
            };
            if (!TryWriteCsr(csr, value))
            {
                return false;
            }
        }

        if (reads)
        {
            _x[op->Rd] = _rv64 ? old : (ulong)(long)(int)old;
        }

        return true;
    }
}
