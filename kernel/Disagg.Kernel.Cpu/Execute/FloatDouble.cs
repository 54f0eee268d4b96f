using Disagg.Kernel.Cpu.Decode;
using Disagg.Kernel.Cpu.Float;

namespace Disagg.Kernel.Cpu;

/// <summary>The D extension's arithmetic, conversions and moves (see <see cref="SoftFloat"/> for rounding and flags).</summary>
public sealed unsafe partial class Hart
{
    private bool ExecuteDouble(DecodedOp* op, Op kind, int rm, ref uint flags)
    {
        if (rm > 4 && UsesRounding(kind))
        {
            return false;
        }

        var a = Double(op->Rs1);
        var b = Double(op->Rs2);
        var finite = double.IsFinite(a) && double.IsFinite(b);
        switch (kind)
        {
            case Op.FmaddD:
            case Op.FmsubD:
            case Op.FnmsubD:
            case Op.FnmaddD:
                WriteDouble(op->Rd, FusedDouble(a, b, Double(op->Rs3), kind, rm, ref flags));
                return true;
            case Op.FaddD:
            case Op.FsubD:
                {
                    if (Nan2Double(a, b, ref flags, op->Rd))
                    {
                        return true;
                    }

                    var y = kind == Op.FsubD ? -b : b;
                    var s = a + y;
                    var err = double.IsFinite(s) ? SoftFloat.TwoSumError(a, y, s) : 0;
                    var tie = err != 0 && err == ((err > 0 ? Math.BitIncrement(s) : Math.BitDecrement(s)) - s) / 2;
                    var bits = SoftFloat.FinishDouble(s, Math.Sign(err), tie, finite, rm, ref flags);
                    if (s == 0 && err == 0 && rm == SoftFloat.Rdn && double.IsNegative(a) != double.IsNegative(y))
                    {
                        bits = 0x8000_0000_0000_0000;
                    }

                    WriteDouble(op->Rd, bits);
                    return true;
                }

            case Op.FmulD:
                if (!Nan2Double(a, b, ref flags, op->Rd))
                {
                    var p = a * b;
                    int sign;
                    bool tie;
                    if (!double.IsFinite(p) || a == 0 || b == 0)
                    {
                        sign = 0;
                        tie = false;
                    }
                    else if (Math.Abs(p) < SoftFloat.Tiny)
                    {
                        sign = SoftFloat.TinyProductError(a, b, p, out tie);
                    }
                    else
                    {
                        var err = Math.FusedMultiplyAdd(a, b, -p);
                        sign = Math.Sign(err);
                        tie = err != 0 && err == ((err > 0 ? Math.BitIncrement(p) : Math.BitDecrement(p)) - p) / 2;
                    }

                    WriteDouble(op->Rd, SoftFloat.FinishDouble(p, sign, tie, finite, rm, ref flags));
                }

                return true;
            case Op.FdivD:
                if (!Nan2Double(a, b, ref flags, op->Rd))
                {
                    if (b == 0 && a != 0 && !double.IsInfinity(a))
                    {
                        flags |= SoftFloat.DivideByZero;
                    }

                    var q = a / b;
                    var sign = 0;
                    var tie = false;
                    if (double.IsFinite(q) && a != 0 && double.IsFinite(b))
                    {
                        if (Math.Abs(q) < SoftFloat.Tiny)
                        {
                            sign = SoftFloat.TinyQuotientError(a, b, q, out tie);
                        }
                        else
                        {
                            // With a tiny operand the residual q*b - a is subnormal: compute it 2^600 higher.
                            var small = Math.Abs(a) < SoftFloat.Tiny || Math.Abs(b) < SoftFloat.Tiny;
                            var sa = small ? Math.ScaleB(a, 600) : a;
                            var sb = small ? Math.ScaleB(b, 600) : b;
                            sign = Math.Sign(Math.FusedMultiplyAdd(-q, sb, sa)) * Math.Sign(b);
                        }
                    }

                    WriteDouble(op->Rd, SoftFloat.FinishDouble(q, sign, tie, finite && b != 0, rm, ref flags));
                }

                return true;
            case Op.FsqrtD:
                if (!Nan2Double(a, 0, ref flags, op->Rd))
                {
                    var r = Math.Sqrt(a);
                    var sign = !double.IsFinite(r) || r == 0 ? 0
                        : a < SoftFloat.Tiny ? SoftFloat.TinyRootError(a, r)
                        : Math.Sign(Math.FusedMultiplyAdd(-r, r, a));
                    WriteDouble(op->Rd, SoftFloat.FinishDouble(r, sign, false, double.IsFinite(a), rm, ref flags));
                }

                return true;
            case Op.FsgnjD:
            case Op.FsgnjnD:
            case Op.FsgnjxD:
                {
                    var x = _f[op->Rs1];
                    var y = _f[op->Rs2];
                    var signBit = kind == Op.FsgnjD ? y : kind == Op.FsgnjnD ? ~y : x ^ y;
                    WriteDouble(op->Rd, (x & 0x7FFF_FFFF_FFFF_FFFF) | (signBit & 0x8000_0000_0000_0000));
                    return true;
                }

            case Op.FminD:
            case Op.FmaxD:
                WriteDouble(op->Rd, MinMax(a, b, kind == Op.FmaxD, SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b), false, ref flags));
                return true;
            case Op.FcvtWD:
            case Op.FcvtWuD:
            case Op.FcvtLD:
            case Op.FcvtLuD:
                {
                    var n = kind - Op.FcvtWD;
                    _x[op->Rd] = SoftFloat.ToInteger(a, rm, n < 2 ? 32 : 64, (n & 1) == 0, ref flags);
                    return true;
                }

            case Op.FmvXD:
                _x[op->Rd] = _f[op->Rs1];
                return true;
            case Op.FclassD:
                _x[op->Rd] = SoftFloat.Classify(a, SoftFloat.IsSignaling(a));
                return true;
            case Op.FeqD:
            case Op.FltD:
            case Op.FleD:
                _x[op->Rd] = Compare(a, b, kind - Op.FeqD, SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b), ref flags);
                return true;
            case Op.FcvtDW:
            case Op.FcvtDWu:
            case Op.FcvtDL:
            case Op.FcvtDLu:
                WriteDouble(op->Rd, SoftFloat.FromInteger(IntegerOperand(op->Rs1, kind - Op.FcvtDW), false, rm, ref flags));
                return true;
            case Op.FmvDX:
                WriteDouble(op->Rd, _x[op->Rs1]);
                return true;
            case Op.FcvtSD:
                if (SoftFloat.IsSignaling(a))
                {
                    flags |= SoftFloat.Invalid;
                }

                WriteSingle(op->Rd, double.IsNaN(a) ? SoftFloat.CanonicalNaN32 : SoftFloat.FinishSingle(a, 0, double.IsFinite(a), rm, ref flags));
                return true;
            case Op.FcvtDS:
                {
                    var s = Single(op->Rs1);
                    if (SoftFloat.IsSignaling(s))
                    {
                        flags |= SoftFloat.Invalid;
                    }

                    WriteDouble(op->Rd, float.IsNaN(s) ? SoftFloat.CanonicalNaN64 : BitConverter.DoubleToUInt64Bits(s));
                    return true;
                }

            default:
                return false;
        }
    }

    private bool Nan2Double(double a, double b, ref uint flags, int rd)
    {
        if (!double.IsNaN(a) && !double.IsNaN(b))
        {
            return false;
        }

        if (SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b))
        {
            flags |= SoftFloat.Invalid;
        }

        WriteDouble(rd, SoftFloat.CanonicalNaN64);
        return true;
    }

    /// <summary>
    /// FMADD.D and friends. The exact result is a*b + c = ph + pl + c (pl the product's error from
    /// an FMA); its difference from the host's fused result gives the rounding direction.
    /// </summary>
    private static ulong FusedDouble(double a, double b, double c, Op kind, int rm, ref uint flags)
    {
        if (kind is Op.FnmsubD or Op.FnmaddD)
        {
            a = -a;
        }

        if (kind is Op.FmsubD or Op.FnmaddD)
        {
            c = -c;
        }

        if (double.IsNaN(a) || double.IsNaN(b) || double.IsNaN(c))
        {
            if (SoftFloat.IsSignaling(a) || SoftFloat.IsSignaling(b) || SoftFloat.IsSignaling(c) || InfTimesZero(a, b))
            {
                flags |= SoftFloat.Invalid;
            }

            return SoftFloat.CanonicalNaN64;
        }

        var r = Math.FusedMultiplyAdd(a, b, c);
        var finite = double.IsFinite(a) && double.IsFinite(b) && double.IsFinite(c);
        var tie = false;
        var sign = double.IsFinite(r) && finite ? SoftFloat.FusedError(a, b, c, r, out tie) : 0;

        var bits = SoftFloat.FinishDouble(r, sign, tie, finite, rm, ref flags);
        if (r == 0 && sign == 0 && rm == SoftFloat.Rdn && double.IsNegative(a * b) != double.IsNegative(c))
        {
            bits = 0x8000_0000_0000_0000;
        }

        return bits;
    }
}
