using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu;

/// <summary>
/// The M extension's high-half multiplies and divisions (MUL and MULW are inline in the loop).
/// Division by zero and overflow follow the ISA's table: no trap, defined results.
/// The *32 forms are RV32's MULH/MULHSU/MULHU on sign-extended registers.
/// </summary>
public sealed partial class Hart
{
    private static ulong MultiplyDivide(Op kind, ulong a, ulong b)
    {
        switch (kind)
        {
            case Op.Mulh:
                return (ulong)(((Int128)(long)a * (long)b) >> 64);
            case Op.Mulhsu:
                return (ulong)(((Int128)(long)a * (Int128)(UInt128)b) >> 64);
            case Op.Mulhu:
                return Math.BigMul(a, b, out _);
            case Op.Div:
                return b == 0 ? ulong.MaxValue : (long)a == long.MinValue && (long)b == -1 ? a : (ulong)((long)a / (long)b);
            case Op.Divu:
                return b == 0 ? ulong.MaxValue : a / b;
            case Op.Rem:
                return b == 0 ? a : (long)a == long.MinValue && (long)b == -1 ? 0 : (ulong)((long)a % (long)b);
            case Op.Remu:
                return b == 0 ? a : a % b;
            case Op.Divw:
                {
                    int x = (int)a, y = (int)b;
                    return y == 0 ? ulong.MaxValue : x == int.MinValue && y == -1 ? (ulong)(long)x : (ulong)(long)(x / y);
                }

            case Op.Divuw:
                {
                    uint x = (uint)a, y = (uint)b;
                    return y == 0 ? ulong.MaxValue : (ulong)(long)(int)(x / y);
                }

            case Op.Remw:
                {
                    int x = (int)a, y = (int)b;
                    return y == 0 ? (ulong)(long)x : x == int.MinValue && y == -1 ? 0 : (ulong)(long)(x % y);
                }

            case Op.Remuw:
                {
                    uint x = (uint)a, y = (uint)b;
                    return y == 0 ? (ulong)(long)(int)x : (ulong)(long)(int)(x % y);
                }

            case Op.Mulh32:
                return (ulong)(long)(int)(((long)(int)a * (int)b) >> 32);
            case Op.Mulhsu32:
                return (ulong)(long)(int)(((long)(int)a * (long)(uint)b) >> 32);
            case Op.Mulhu32:
                return (ulong)(long)(int)(((ulong)(uint)a * (uint)b) >> 32);
            default:
                return 0;
        }
    }
}
