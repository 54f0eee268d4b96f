namespace Disagg.Kernel.Cpu.Float;

/// <summary>
/// IEEE 754 arithmetic with RISC-V's rounding modes and accrued exceptions on top of the host FPU,
/// which only rounds to nearest-even and reports no flags. Each operation computes the host's RNE
/// result together with the sign of the rounding error (from error-free transformations: TwoSum, and
/// FMA residuals for products, quotients and roots); from that sign the other modes are one step away
/// and inexact, overflow and underflow follow. Single precision is computed in double, where +,-,*,/
/// and sqrt are exact or innocuously double-rounded; the fused multiply-add is corrected at midpoints.
/// Results are canonical NaNs as RISC-V requires (no NaN payload propagation).
/// Known gap: error signs of double products/quotients whose exact error lies below the subnormal
/// range are not exact, so NX/UF and directed rounding can be off for such subnormal results.
/// </summary>
internal static partial class SoftFloat
{
    public const uint Invalid = 16;
    public const uint DivideByZero = 8;
    public const uint Overflow = 4;
    public const uint Underflow = 2;
    public const uint Inexact = 1;

    public const int Rne = 0;
    public const int Rtz = 1;
    public const int Rdn = 2;
    public const int Rup = 3;
    public const int Rmm = 4;

    public const ulong CanonicalNaN64 = 0x7FF8_0000_0000_0000;
    public const uint CanonicalNaN32 = 0x7FC0_0000;

    public static bool IsSignaling(double d) =>
        double.IsNaN(d) && (BitConverter.DoubleToUInt64Bits(d) & (1UL << 51)) == 0;

    public static bool IsSignaling(float f) =>
        float.IsNaN(f) && (BitConverter.SingleToUInt32Bits(f) & (1U << 22)) == 0;

    /// <summary>Error of a + b = s, exactly (Knuth's TwoSum).</summary>
    public static double TwoSumError(double a, double b, double s)
    {
        var bb = s - a;
        return (a - (s - bb)) + (b - bb);
    }

    /// <summary>Finishes a double result: <paramref name="r"/> is the RNE result, exact = r + error with the given sign.</summary>
    public static ulong FinishDouble(double r, int errSign, bool tie, bool operandsFinite, int rm, ref uint flags)
    {
        if (double.IsNaN(r))
        {
            flags |= Invalid;
            return CanonicalNaN64;
        }

        if (double.IsInfinity(r) && operandsFinite)
        {
            flags |= Overflow | Inexact;
            return BitConverter.DoubleToUInt64Bits(OverflowResult(r > 0, rm, double.MaxValue, double.PositiveInfinity));
        }

        if (errSign == 0)
        {
            return BitConverter.DoubleToUInt64Bits(r);
        }

        flags |= Inexact;
        r = rm switch
        {
            Rtz when r > 0 && errSign < 0 => Math.BitDecrement(r),
            Rtz when r < 0 && errSign > 0 => Math.BitIncrement(r),
            Rdn when errSign < 0 => Math.BitDecrement(r),
            Rup when errSign > 0 => Math.BitIncrement(r),
            Rmm when tie && (r > 0 ? errSign > 0 : r < 0 ? errSign < 0 : true) => errSign > 0 ? Math.BitIncrement(r) : Math.BitDecrement(r),
            _ => r,
        };
        if (double.IsInfinity(r))
        {
            flags |= Overflow;
        }
        else if (Math.Abs(r) < 2.2250738585072014E-308)
        {
            flags |= Underflow;
        }

        return BitConverter.DoubleToUInt64Bits(r);
    }

    /// <summary>
    /// Rounds a double that approximates an exact value (exact = d + e, sign of e given) to single
    /// precision in mode rm. When d sits exactly between two floats but the exact value does not, the
    /// host's RNE on d would pick by parity; the exact side decides instead.
    /// </summary>
    public static uint FinishSingle(double d, int dErrSign, bool operandsFinite, int rm, ref uint flags)
    {
        if (double.IsNaN(d))
        {
            flags |= Invalid;
            return CanonicalNaN32;
        }

        var f = (float)d;
        if (float.IsInfinity(f) && (operandsFinite || !double.IsInfinity(d)))
        {
            // Rounding toward zero overflows only from 2^128 up; below that it is the largest float, inexact.
            var towardZero = rm == Rtz || (rm == Rdn && d > 0) || (rm == Rup && d < 0);
            if (towardZero && Math.Abs(d) < 3.4028236692093846E+38)
            {
                flags |= Inexact;
                return BitConverter.SingleToUInt32Bits(d > 0 ? float.MaxValue : -float.MaxValue);
            }

            flags |= Overflow | Inexact;
            return BitConverter.SingleToUInt32Bits(OverflowResult(d > 0, rm, float.MaxValue, float.PositiveInfinity));
        }

        if (float.IsInfinity(f))
        {
            return BitConverter.SingleToUInt32Bits(f);
        }

        var diff = d - f;
        int errSign;
        var tie = false;
        if (diff == 0)
        {
            errSign = dErrSign;
        }
        else
        {
            var other = diff > 0 ? MathF.BitIncrement(f) : MathF.BitDecrement(f);
            var midpoint = diff == ((double)other - f) / 2;
            if (midpoint && dErrSign != 0)
            {
                if (Math.Sign(diff) == dErrSign)
                {
                    f = other;
                    errSign = -dErrSign;
                }
                else
                {
                    errSign = Math.Sign(diff);
                }
            }
            else
            {
                errSign = Math.Sign(diff);
                tie = midpoint;
            }
        }

        if (errSign == 0)
        {
            return BitConverter.SingleToUInt32Bits(f);
        }

        flags |= Inexact;
        f = rm switch
        {
            Rtz when f > 0 && errSign < 0 => MathF.BitDecrement(f),
            Rtz when f < 0 && errSign > 0 => MathF.BitIncrement(f),
            Rdn when errSign < 0 => MathF.BitDecrement(f),
            Rup when errSign > 0 => MathF.BitIncrement(f),
            Rmm when tie && (f > 0 ? errSign > 0 : f < 0 ? errSign < 0 : true) => errSign > 0 ? MathF.BitIncrement(f) : MathF.BitDecrement(f),
            _ => f,
        };
        if (float.IsInfinity(f))
        {
            flags |= Overflow;
        }
        else if (MathF.Abs(f) < 1.17549435E-38f)
        {
            flags |= Underflow;
        }

        return BitConverter.SingleToUInt32Bits(f);
    }

    private static T OverflowResult<T>(bool positive, int rm, T max, T infinity)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var toMax = rm switch
        {
            Rtz => true,
            Rdn => positive,
            Rup => !positive,
            _ => false,
        };
        var magnitude = toMax ? max : infinity;
        return positive ? magnitude : -magnitude;
    }

    /// <summary>Rounds a double to an integral double in mode rm.</summary>
    public static double RoundIntegral(double v, int rm) => rm switch
    {
        Rtz => Math.Truncate(v),
        Rdn => Math.Floor(v),
        Rup => Math.Ceiling(v),
        Rmm => Math.Round(v, MidpointRounding.AwayFromZero),
        _ => Math.Round(v, MidpointRounding.ToEven),
    };

    /// <summary>
    /// FCVT to an integer. <paramref name="bits"/> is 32 or 64; the result is the ISA's register value
    /// (32-bit results sign-extended, also for the unsigned forms). Out of range and NaN saturate with NV.
    /// </summary>
    public static ulong ToInteger(double v, int rm, int bits, bool signed, ref uint flags)
    {
        double min, limit;
        ulong minResult, maxResult;
        if (bits == 32)
        {
            min = signed ? -2147483648.0 : 0;
            limit = signed ? 2147483648.0 : 4294967296.0;
            minResult = signed ? 0xFFFF_FFFF_8000_0000 : 0;
            maxResult = signed ? 0x7FFF_FFFF : ulong.MaxValue;
        }
        else
        {
            min = signed ? -9223372036854775808.0 : 0;
            limit = signed ? 9223372036854775808.0 : 18446744073709551616.0;
            minResult = signed ? 0x8000_0000_0000_0000 : 0;
            maxResult = signed ? 0x7FFF_FFFF_FFFF_FFFF : ulong.MaxValue;
        }

        if (double.IsNaN(v))
        {
            flags |= Invalid;
            return maxResult;
        }

        var r = RoundIntegral(v, rm);
        if (r < min || r >= limit)
        {
            flags |= Invalid;
            return r < min ? minResult : maxResult;
        }

        if (r != v)
        {
            flags |= Inexact;
        }

        if (bits == 32)
        {
            return signed ? (ulong)(long)(int)r : (ulong)(long)(int)(uint)r;
        }

        return signed ? (ulong)(long)r : (ulong)r;
    }

    /// <summary>FCVT from an integer: rounds the exact value to 24 or 53 significant bits in mode rm.</summary>
    public static ulong FromInteger(Int128 value, bool single, int rm, ref uint flags)
    {
        if (value == 0)
        {
            return 0;
        }

        var negative = value < 0;
        var magnitude = (UInt128)(negative ? -value : value);
        var precision = single ? 24 : 53;
        var length = 128 - (int)UInt128.LeadingZeroCount(magnitude);
        var shift = Math.Max(0, length - precision);
        var q = magnitude >> shift;
        if (shift > 0)
        {
            var rem = magnitude & ((UInt128.One << shift) - 1);
            var half = UInt128.One << (shift - 1);
            if (rem != 0)
            {
                flags |= Inexact;
                var up = rm switch
                {
                    Rtz => false,
                    Rdn => negative,
                    Rup => !negative,
                    Rmm => rem >= half,
                    _ => rem > half || (rem == half && (q & 1) == 1),
                };
                if (up)
                {
                    q++;
                }
            }
        }

        var result = Math.ScaleB((double)(ulong)q, shift);
        if (negative)
        {
            result = -result;
        }

        return single ? BitConverter.SingleToUInt32Bits((float)result) : BitConverter.DoubleToUInt64Bits(result);
    }

    /// <summary>fclass: one bit of ten, per the F extension's table.</summary>
    public static ulong Classify(double d, bool signaling)
    {
        var negative = double.IsNegative(d);
        if (double.IsNaN(d))
        {
            return signaling ? 1UL << 8 : 1UL << 9;
        }

        if (double.IsInfinity(d))
        {
            return negative ? 1UL : 1UL << 7;
        }

        if (d == 0)
        {
            return negative ? 1UL << 3 : 1UL << 4;
        }

        var subnormal = Math.Abs(d) < 2.2250738585072014E-308;
        return negative ? (subnormal ? 1UL << 2 : 1UL << 1) : (subnormal ? 1UL << 5 : 1UL << 6);
    }

    public static ulong ClassifySingle(float f) =>
        float.IsNaN(f) ? Classify(double.NaN, IsSignaling(f))
        : f != 0 && !float.IsInfinity(f) && MathF.Abs(f) < 1.17549435E-38f
            ? (float.IsNegative(f) ? 1UL << 2 : 1UL << 5)
            : Classify(f, false);
}
