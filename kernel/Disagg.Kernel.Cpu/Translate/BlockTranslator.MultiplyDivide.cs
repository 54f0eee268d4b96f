using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// The M extension. x86's idiv/div fault on a zero divisor and on MIN / -1; RISC-V defines both
/// (quotient all ones or the dividend, remainder the dividend or zero), so the divisor is tested first:
/// zero takes the ISA's values, -1 becomes a negation (which wraps MIN to MIN, as the ISA says).
/// RV32's MULH* (the *32 ops) are 64-bit multiplies of the sign- or zero-extended registers.
/// </summary>
internal sealed unsafe partial class BlockTranslator
{
    /// <summary>Emits rs1 op rs2 for an M op; returns the host register holding the 64-bit result.</summary>
    private X64Register EmitMultiplyDivide(Op kind, int rs1, int rs2)
    {
        var e = _emitter;
        var rax = X64Register.Rax;
        var rcx = X64Register.Rcx;
        var rdx = X64Register.Rdx;
        switch (kind)
        {
            case Op.Mul:
                Read(rax, rs1);
                Read(rcx, rs2);
                e.Multiply(rax, rcx);
                return rax;
            case Op.Mulw:
                Read(rax, rs1, wide: false);
                Read(rcx, rs2, wide: false);
                e.Multiply(rax, rcx, wide: false);
                e.SignExtend32(rax, rax);
                return rax;
            case Op.Mulh:
            case Op.Mulhu:
                Read(rax, rs1);
                Read(rcx, rs2);
                e.MultiplyWide(rcx, signed: kind == Op.Mulh);
                return rdx;
            case Op.Mulhsu:
                // signed x unsigned: the unsigned high half, minus rs2 when rs1 is negative.
                Read(rax, rs1);
                Read(rcx, rs2);
                e.MultiplyWide(rcx, signed: false);
                Read(rax, rs1);
                e.Shift(X64ShiftOp.Sar, rax, 63);
                e.Alu(X64AluOp.And, rax, rcx);
                e.Alu(X64AluOp.Sub, rdx, rax);
                return rdx;
            case Op.Mulh32:
            case Op.Mulhsu32:
            case Op.Mulhu32:
                Read(rax, rs1, wide: kind != Op.Mulhu32);
                Read(rcx, rs2, wide: kind == Op.Mulh32);
                e.Multiply(rax, rcx);
                e.Shift(kind == Op.Mulhu32 ? X64ShiftOp.Shr : X64ShiftOp.Sar, rax, 32);
                e.SignExtend32(rax, rax);
                return rax;
            case Op.Div: Divide(rs1, rs2, signed: true, remainder: false, wide: true); return rax;
            case Op.Divu: Divide(rs1, rs2, signed: false, remainder: false, wide: true); return rax;
            case Op.Rem: Divide(rs1, rs2, signed: true, remainder: true, wide: true); return rax;
            case Op.Remu: Divide(rs1, rs2, signed: false, remainder: true, wide: true); return rax;
            case Op.Divw: Divide(rs1, rs2, signed: true, remainder: false, wide: false); return rax;
            case Op.Divuw: Divide(rs1, rs2, signed: false, remainder: false, wide: false); return rax;
            case Op.Remw: Divide(rs1, rs2, signed: true, remainder: true, wide: false); return rax;
            case Op.Remuw: Divide(rs1, rs2, signed: false, remainder: true, wide: false); return rax;
            default:
                throw new InvalidOperationException($"cpu: translator: op {kind} is not translatable");
        }
    }

    /// <summary>rax = rs1 / rs2 or rs1 % rs2 with the ISA's results for a zero divisor and overflow; W forms sign-extend.</summary>
    private void Divide(int rs1, int rs2, bool signed, bool remainder, bool wide)
    {
        var e = _emitter;
        var rax = X64Register.Rax;
        var rcx = X64Register.Rcx;
        var rdx = X64Register.Rdx;
        Read(rax, rs1, wide);
        Read(rcx, rs2, wide);
        e.Test(rcx, rcx, wide);
        var zero = e.JumpIf(X64Condition.Equal);
        var minusOne = -1;
        if (signed)
        {
            e.AluImmediate(X64AluOp.Cmp, rcx, -1, wide);
            minusOne = e.JumpIf(X64Condition.Equal);
            e.SignExtendIntoRdx(wide);
        }
        else
        {
            e.Alu(X64AluOp.Xor, rdx, rdx, wide: false);
        }

        e.Divide(rcx, signed, wide);
        if (remainder)
        {
            e.Move(rax, rdx);
        }

        var done = e.Jump();
        if (signed)
        {
            e.Bind(minusOne);
            if (remainder)
            {
                e.Alu(X64AluOp.Xor, rax, rax, wide: false);
            }
            else
            {
                e.Negate(rax, wide);
            }

            var done2 = e.Jump();
            e.Bind(zero);
            if (!remainder)
            {
                e.MoveImmediate(rax, -1);
            }

            e.Bind(done2);
        }
        else
        {
            e.Bind(zero);
            if (!remainder)
            {
                e.MoveImmediate(rax, -1);
            }
        }

        e.Bind(done);
        SignExtendIfNarrow(wide);
    }
}
