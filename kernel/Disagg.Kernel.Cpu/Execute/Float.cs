using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Float;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// F and D. Registers are 64 bits; a single is NaN-boxed (upper half all ones) and an improperly
/// boxed input reads as the canonical NaN. With sstatus.FS = Off every FP instruction is illegal;
/// anything that changes FP state sets FS = Dirty (and so SD). Arithmetic is in <see cref="SoftFloat"/>.
/// </summary>
public sealed unsafe partial class Hart
{
    private uint SingleBits(int r)
    {
        var v = _f[r];
        return (v >> 32) == 0xFFFF_FFFF ? (uint)v : SoftFloat.CanonicalNaN32;
    }

    private float Single(int r) => BitConverter.UInt32BitsToSingle(SingleBits(r));

    private double Double(int r) => BitConverter.UInt64BitsToDouble(_f[r]);

    private void WriteSingle(int rd, uint bits)
    {
        _f[rd] = 0xFFFF_FFFF_0000_0000 | bits;
        _sstatus |= SstatusFs;
    }

    private void WriteDouble(int rd, ulong bits)
    {
        _f[rd] = bits;
        _sstatus |= SstatusFs;
    }

    private void WriteInteger(int rd, ulong value) => _x[rd] = _rv64 ? value : (ulong)(long)(int)value;

    /// <summary>Returns false for an illegal instruction (FS off, bad dynamic rounding mode); traps from FP loads/stores are taken inside.</summary>
    private bool ExecuteFloat(DecodedOp* op)
    {
        if ((_sstatus & SstatusFs) == 0)
        {
            return false;
        }

        int rm = op->Rm == 7 ? (int)_frm : op->Rm;
        var kind = op->Kind;
        uint flags = 0;
        var single = kind < Op.FmaddD;
        if (single)
        {
            if (!ExecuteSingle(op, kind, rm, ref flags))
            {
                return false;
            }
        }
        else if (!ExecuteDouble(op, kind, rm, ref flags))
        {
            return false;
        }

        if (flags != 0)
        {
            _fflags |= flags;
            _sstatus |= SstatusFs;
        }

        return true;
    }

    private static bool UsesRounding(Op kind) => kind is not (Op.FsgnjS or Op.FsgnjnS or Op.FsgnjxS or Op.FminS or Op.FmaxS
        or Op.FmvXW or Op.FclassS or Op.FeqS or Op.FltS or Op.FleS or Op.FmvWX or Op.FsgnjD or Op.FsgnjnD or Op.FsgnjxD
        or Op.FminD or Op.FmaxD or Op.FmvXD or Op.FclassD or Op.FeqD or Op.FltD or Op.FleD or Op.FmvDX or Op.FcvtDS
        or Op.FcvtDW or Op.FcvtDWu);

    /// <summary>FLW/FLD/FSW/FSD; false when a trap was taken.</summary>
    private bool FloatMemory(DecodedOp* op)
    {
        var va = (_x[op->Rs1] + (ulong)op->Imm) & _addressMask;
        switch (op->Kind)
        {
            case Op.Flw:
                if (LoadThroughTlb(va, 4, out var w))
                {
                    WriteSingle(op->Rd, (uint)w);
                    return true;
                }

                return false;
            case Op.Fld:
                if (LoadThroughTlb(va, 8, out var d))
                {
                    WriteDouble(op->Rd, d);
                    return true;
                }

                return false;
            case Op.Fsw:
                return StoreSlow(va, 4, (uint)_f[op->Rs2]);
            default:
                return StoreSlow(va, 8, _f[op->Rs2]);
        }
    }

    private bool LoadThroughTlb(ulong va, int size, out ulong value)
    {
        var e = _tlb + ((va >> 12) & Mmu.Tlb.IndexMask);
        if (e->ReadTag == (va & (size == 4 ? Mmu.Tlb.Mask4 : Mmu.Tlb.Mask8)))
        {
            value = ReadSized((byte*)(e->Addend + va), size);
            return true;
        }

        return LoadSlow(va, size, out value);
    }

    private bool ExecuteSingle(DecodedOp* op, Op kind, int rm, ref uint flags)
    {
        if (rm > 4 && UsesRounding(kind))
        {
            return false;
        }

        var a = Single(op->Rs1);
        var b = Single(op->Rs2);
        var finite = float.IsFinite(a) && float.IsFinite(b);
        switch (kind)
        {
            case Op.FmaddS:
            case Op.FmsubS:
            case Op.FnmsubS:
            case Op.FnmaddS:
                {
                    var c = Single(op->Rs3);
                    var negateProduct = kind is Op.FnmsubS or Op.FnmaddS;
                    var negateAddend = kind is Op.FmsubS or Op.FnmaddS;
                    if (float.IsNaN(a) || float.IsNaN(b) || float.IsNaN(c))
                    {
                        if (SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b) || SoftFloat.IsSignaling(c) || InfTimesZero(a, b))
                        {
                            flags |= SoftFloat.Invalid;
                        }

                        WriteSingle(op->Rd, SoftFloat.CanonicalNaN32);
                        return true;
                    }

                    var p = (double)a * b;
                    if (negateProduct)
                    {
                        p = -p;
                    }

                    double addend = negateAddend ? -c : c;
                    var s = p + addend;
                    var err = double.IsFinite(s) ? SoftFloat.TwoSumError(p, addend, s) : 0;
                    var bits = SoftFloat.FinishSingle(s, Math.Sign(err), finite && float.IsFinite(c), rm, ref flags);
                    if (s == 0 && err == 0 && rm == SoftFloat.Rdn && double.IsNegative(p) != double.IsNegative(addend))
                    {
                        bits = 0x8000_0000; // an exact zero sum of opposite signs is -0 when rounding down
                    }

                    WriteSingle(op->Rd, bits);
                    return true;
                }

            case Op.FaddS:
            case Op.FsubS:
                {
                    if (Nan2Single(a, b, ref flags, op->Rd))
                    {
                        return true;
                    }

                    double y = kind == Op.FsubS ? -b : b;
                    var s = a + y;
                    var err = double.IsFinite(s) ? SoftFloat.TwoSumError(a, y, s) : 0;
                    var bits = SoftFloat.FinishSingle(s, Math.Sign(err), finite, rm, ref flags);
                    if (s == 0 && err == 0 && rm == SoftFloat.Rdn && float.IsNegative(a) != double.IsNegative(y))
                    {
                        bits = 0x8000_0000;
                    }

                    WriteSingle(op->Rd, bits);
                    return true;
                }

            case Op.FmulS:
                if (!Nan2Single(a, b, ref flags, op->Rd))
                {
                    WriteSingle(op->Rd, SoftFloat.FinishSingle((double)a * b, 0, finite, rm, ref flags));
                }

                return true;
            case Op.FdivS:
                if (!Nan2Single(a, b, ref flags, op->Rd))
                {
                    if (b == 0 && a != 0 && !float.IsInfinity(a))
                    {
                        flags |= SoftFloat.DivideByZero;
                    }

                    var q = (double)a / b;
                    var sign = double.IsFinite(q) && q != 0 ? Math.Sign(Math.FusedMultiplyAdd(-q, b, a)) * Math.Sign(b) : 0;
                    WriteSingle(op->Rd, SoftFloat.FinishSingle(q, sign, finite && b != 0, rm, ref flags));
                }

                return true;
            case Op.FsqrtS:
                if (!Nan2Single(a, 0, ref flags, op->Rd))
                {
                    var r = Math.Sqrt(a);
                    var sign = double.IsFinite(r) && r != 0 ? Math.Sign(Math.FusedMultiplyAdd(-r, r, a)) : 0;
                    WriteSingle(op->Rd, SoftFloat.FinishSingle(r, sign, float.IsFinite(a), rm, ref flags));
                }

                return true;
            case Op.FsgnjS:
            case Op.FsgnjnS:
            case Op.FsgnjxS:
                {
                    var x = SingleBits(op->Rs1);
                    var y = SingleBits(op->Rs2);
                    var signBit = kind == Op.FsgnjS ? y : kind == Op.FsgnjnS ? ~y : x ^ y;
                    WriteSingle(op->Rd, (x & 0x7FFF_FFFF) | (signBit & 0x8000_0000));
                    return true;
                }

            case Op.FminS:
            case Op.FmaxS:
                WriteSingle(op->Rd, (uint)MinMax(a, b, kind == Op.FmaxS, SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b), true, ref flags));
                return true;
            case Op.FcvtWS:
            case Op.FcvtWuS:
            case Op.FcvtLS:
            case Op.FcvtLuS:
                {
                    var n = kind - Op.FcvtWS;
                    _x[op->Rd] = SoftFloat.ToInteger(a, rm, n < 2 ? 32 : 64, (n & 1) == 0, ref flags);
                    return true;
                }

            case Op.FmvXW:
                WriteInteger(op->Rd, (ulong)(long)(int)(uint)_f[op->Rs1]);
                return true;
            case Op.FclassS:
                _x[op->Rd] = SoftFloat.ClassifySingle(a);
                return true;
            case Op.FeqS:
            case Op.FltS:
            case Op.FleS:
                _x[op->Rd] = Compare(a, b, kind - Op.FeqS, SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b), ref flags);
                return true;
            case Op.FcvtSW:
            case Op.FcvtSWu:
            case Op.FcvtSL:
            case Op.FcvtSLu:
                WriteSingle(op->Rd, (uint)SoftFloat.FromInteger(IntegerOperand(op->Rs1, kind - Op.FcvtSW), true, rm, ref flags));
                return true;
            case Op.FmvWX:
                WriteSingle(op->Rd, (uint)_x[op->Rs1]);
                return true;
            default:
                return false;
        }
    }

    private Int128 IntegerOperand(int rs1, int form)
    {
        var v = _x[rs1];
        return form switch
        {
            0 => (int)v,
            1 => (uint)v,
            2 => (long)v,
            _ => (Int128)(UInt128)v,
        };
    }

    private bool Nan2Single(float a, float b, ref uint flags, int rd)
    {
        if (!float.IsNaN(a) && !float.IsNaN(b))
        {
            return false;
        }

        if (SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b))
        {
            flags |= SoftFloat.Invalid;
        }

        WriteSingle(rd, SoftFloat.CanonicalNaN32);
        return true;
    }

    private static bool InfTimesZero(double a, double b) =>
        (double.IsInfinity(a) && b == 0) || (double.IsInfinity(b) && a == 0);

    /// <summary>fmin/fmax per the 2.2 F extension: a NaN operand yields the other; -0 is below +0; sNaN signals.</summary>
    private static ulong MinMax(double a, double b, bool max, bool signaling, bool single, ref uint flags)
    {
        if (signaling)
        {
            flags |= SoftFloat.Invalid;
        }

        double r;
        if (double.IsNaN(a) && double.IsNaN(b))
        {
            return single ? SoftFloat.CanonicalNaN32 : SoftFloat.CanonicalNaN64;
        }
        else if (double.IsNaN(a))
        {
            r = b;
        }
        else if (double.IsNaN(b))
        {
            r = a;
        }
        else if (a == b)
        {
            r = max ? (double.IsNegative(a) ? b : a) : (double.IsNegative(a) ? a : b);
        }
        else
        {
            r = max ? Math.Max(a, b) : Math.Min(a, b);
        }

        return single ? BitConverter.SingleToUInt32Bits((float)r) : BitConverter.DoubleToUInt64Bits(r);
    }

    /// <summary>feq (quiet: NV only for sNaN), flt and fle (signaling: NV for any NaN).</summary>
    private static ulong Compare(double a, double b, int which, bool signaling, ref uint flags)
    {
        if (double.IsNaN(a) || double.IsNaN(b))
        {
            if (which != 0 || signaling)
            {
                flags |= SoftFloat.Invalid;
            }

            return 0;
        }

        return which switch
        {
            0 => a == b ? 1UL : 0,
            1 => a < b ? 1UL : 0,
            _ => a <= b ? 1UL : 0,
        };
    }
}
