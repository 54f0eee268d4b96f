namespace Disagg.Kernel.Cpu.Float;

/// <summary>
/// Rounding-error signs where the plain residual is not exact: results or residuals in the subnormal
/// range, and fused products that overflow. Each recomputes at a power-of-two scale where the
/// error-free transformation is exact again (scaling by 2^k is exact away from the range limits).
/// </summary>
internal static partial class SoftFloat
{
    /// <summary>Below this magnitude an FMA residual may itself be subnormal and lose the error; such cases are rescaled.</summary>
    public const double Tiny = 2.0041683600089728E-292; // 2^-969

    /// <summary>Sign of (a*b - p) and whether it is a tie, for a product p that is zero, subnormal or nearly so.</summary>
    public static int TinyProductError(double a, double b, double p, out bool tie)
    {
        // Scale the smaller factor up, and the other too if that is not enough (subnormal x subnormal).
        var k = 600;
        if (Math.Abs(a) <= Math.Abs(b))
        {
            a = Math.ScaleB(a, 600);
        }
        else
        {
            b = Math.ScaleB(b, 600);
        }

        if (Math.Abs(a * b) < Tiny)
        {
            if (Math.Abs(a) <= Math.Abs(b))
            {
                b = Math.ScaleB(b, 600);
            }
            else
            {
                a = Math.ScaleB(a, 600);
            }

            k = 1200;
        }

        var ps = a * b;
        if (Math.Abs(ps) < Tiny)
        {
            tie = false;
            return Math.Sign(a) * Math.Sign(b); // below any subnormal: p is 0 and the error has the product's sign
        }

        var e = Math.FusedMultiplyAdd(a, b, -ps);
        var d = (ps - Math.ScaleB(p, k)) + e;
        tie = Math.Abs(d) == Math.ScaleB(Math.BitIncrement(Math.Abs(p)) - Math.Abs(p), k - 1);
        return Math.Sign(d);
    }

    /// <summary>Sign of (a/b - q) and whether it is a tie, for a quotient q that is zero, subnormal or nearly so.</summary>
    public static int TinyQuotientError(double a, double b, double q, out bool tie)
    {
        if (Math.Abs(a) < 2.5822498780869086E+120)
        {
            a = Math.ScaleB(a, 600);
        }
        else
        {
            b = Math.ScaleB(b, -600);
        }

        var qs = a / b;
        var residual = Math.FusedMultiplyAdd(-qs, b, a);
        var d = qs - Math.ScaleB(q, 600);
        tie = residual == 0 && Math.Abs(d) == Math.ScaleB(Math.BitIncrement(Math.Abs(q)) - Math.Abs(q), 599);
        return d != 0 ? Math.Sign(d) : Math.Sign(residual) * Math.Sign(b);
    }

    /// <summary>Sign of (sqrt(a) - r) for a tiny a, computed at a scale where the residual is exact.</summary>
    public static int TinyRootError(double a, double r)
    {
        var sa = Math.ScaleB(a, 600);
        var rs = Math.ScaleB(r, 300);
        return Math.Sign(Math.FusedMultiplyAdd(-rs, rs, sa));
    }

    /// <summary>
    /// Sign of (a*b + c - r) for the host's fused result r. The exact value is ph + pl + c with pl the
    /// product's error; when the product overflows or is too tiny for pl to be exact, everything is
    /// rescaled, and if the addend leaves the range at that scale the product is negligible beside it.
    /// </summary>
    public static int FusedError(double a, double b, double c, double r, out bool tie)
    {
        tie = false;
        var original = r;
        var ph = a * b;
        if (a != 0 && b != 0 && (!double.IsFinite(ph) || Math.Abs(ph) < Tiny))
        {
            var k = double.IsFinite(ph) ? 600 : -600;
            var cs = Math.ScaleB(c, k);
            var rs = Math.ScaleB(r, k);
            if (!double.IsFinite(cs) || (cs == 0 && c != 0) || !double.IsFinite(rs) || (rs == 0 && r != 0))
            {
                return r == c ? Math.Sign(a) * Math.Sign(b) : 0;
            }

            if ((Math.Abs(a) <= Math.Abs(b)) == (k > 0))
            {
                a = Math.ScaleB(a, k);
            }
            else
            {
                b = Math.ScaleB(b, k);
            }

            if (k > 0 && Math.Abs(a * b) < Tiny)
            {
                // Still tiny (subnormal factors): scale the other factor as well.
                cs = Math.ScaleB(c, 2 * k);
                rs = Math.ScaleB(r, 2 * k);
                if (!double.IsFinite(cs) || !double.IsFinite(rs))
                {
                    return r == c ? Math.Sign(a) * Math.Sign(b) : 0;
                }

                if (Math.Abs(a) <= Math.Abs(b))
                {
                    b = Math.ScaleB(b, k);
                }
                else
                {
                    a = Math.ScaleB(a, k);
                }
            }

            c = cs;
            r = rs;
            ph = a * b;
        }

        var pl = Math.FusedMultiplyAdd(a, b, -ph);
        var s = ph + c;
        var e1 = TwoSumError(ph, c, s);
        var err = (s - r) + (e1 + pl);
        tie = err != 0 && Math.Abs(err) == (Math.BitIncrement(Math.Abs(r)) - Math.Abs(r)) / 2 && original == r;
        return Math.Sign(err);
    }
}
