using Disagg.Kernel.Cpu.Decode;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// The D extension's hot ops and FP loads and stores, in SSE2 (FMA3 for the fused ops when the host has
/// it). The host computes in round-to-nearest-even, so only ops whose rounding is RNE (static rm 0, or
/// dynamic with frm 0) are translated; the runtime half of that test, and sstatus.FS being Dirty (so no
/// op here can be illegal or need to dirty it), is one byte the hart sets before entering
/// (x[<see cref="FpReadySlot"/>]), checked once per block before its first FP op. Exception flags
/// accumulate in MXCSR, cleared by the prologue and stored by the epilogue for the hart to fold into
/// fflags (x86 IE, ZE, OE, UE, PE are RISC-V NV, DZ, OF, UF, NX; both detect tininess after rounding).
/// A NaN result leaves the block before anything is written and the interpreter runs the op: RISC-V
/// wants the canonical NaN where x86 propagates a payload, and NV for inf * 0 + qNaN where x86 is quiet.
/// </summary>
internal sealed unsafe partial class BlockTranslator
{
    /// <summary>Register-file word: nonzero when FS is Dirty and frm is RNE (set by the hart at every entry).</summary>
    public const int FpReadySlot = 35;

    /// <summary>Register-file word the epilogue stores MXCSR to (its low six bits are the exception flags).</summary>
    public const int MxcsrSlot = 36;

    /// <summary>MXCSR as .NET runs: every exception masked, round to nearest, no flags.</summary>
    private const int DefaultMxcsr = 0x1F80;

    private const int FloatBase = 40;

    private bool _fpChecked;

    private static bool IsFloat(Op kind) => kind is Op.Flw or Op.Fld or Op.Fsw or Op.Fsd
        or (>= Op.FmaddD and <= Op.FdivD) or Op.FsgnjD or Op.FsgnjnD or Op.FsgnjxD
        or Op.FmvXD or Op.FmvDX or Op.FcvtDW or Op.FcvtDL;

    /// <summary>The per-op half of the test: rounding ops need a static RNE or dynamic rm, fused ops need FMA3.</summary>
    private static bool TranslatesFloat(DecodedOp* op) => op->Kind switch
    {
        >= Op.FmaddD and <= Op.FnmaddD => HostFeatures.Fma3 && op->Rm is 0 or 7,
        Op.FaddD or Op.FsubD or Op.FmulD or Op.FdivD or Op.FcvtDL => op->Rm is 0 or 7,
        _ => true,
    };

    private static X64Memory F(int r) => X64Memory.At(Registers, (FloatBase + r) * 8);

    /// <summary>Leaves to the interpreter before the block's first FP op unless the hart said FP is ready.</summary>
    private void GuardFloat(uint offset, int retired)
    {
        if (_fpChecked)
        {
            return;
        }

        _fpChecked = true;
        _emitter.Load(X64Register.Rax, X(FpReadySlot));
        _emitter.Test(X64Register.Rax, X64Register.Rax);
        SideExit(_emitter.JumpIf(X64Condition.Equal), offset, retired);
    }

    private void EmitFloat(DecodedOp* op, uint offset, int retired)
    {
        var e = _emitter;
        var rax = X64Register.Rax;
        var rcx = X64Register.Rcx;
        var rdx = X64Register.Rdx;
        GuardFloat(offset, retired);
        switch (op->Kind)
        {
            case Op.Fld:
                Lookup(op, offset, retired, 8, ReadTagOffset);
                e.Load(rax, X64Memory.At(rax));
                e.Store(F(op->Rd), rax, 8);
                return;
            case Op.Flw:
                // A single is NaN-boxed: the upper half all ones.
                Lookup(op, offset, retired, 4, ReadTagOffset);
                e.Load(rax, X64Memory.At(rax), wide: false);
                e.MoveImmediate(rcx, unchecked((long)0xFFFF_FFFF_0000_0000));
                e.Alu(X64AluOp.Or, rax, rcx);
                e.Store(F(op->Rd), rax, 8);
                return;
            case Op.Fsd:
            case Op.Fsw:
                var bytes = op->Kind == Op.Fsd ? 8 : 4;
                Lookup(op, offset, retired, bytes, WriteTagOffset);
                e.Load(rdx, F(op->Rs2));
                e.Store(X64Memory.At(rax), rdx, bytes);
                return;
            case Op.FaddD:
            case Op.FsubD:
            case Op.FmulD:
            case Op.FdivD:
                e.LoadDouble(0, F(op->Rs1));
                e.DoubleArithmetic(op->Kind switch { Op.FaddD => 0x58, Op.FsubD => 0x5C, Op.FmulD => 0x59, _ => 0x5E }, 0, F(op->Rs2));
                StoreUnlessNaN(op->Rd, offset, retired);
                return;
            case Op.FmaddD:
            case Op.FmsubD:
            case Op.FnmsubD:
            case Op.FnmaddD:
                // xmm0 = rs1 * rs2 +- rs3; RISC-V fnmsub is -(a*b)+c (x86 fnmadd), fnmadd is -(a*b)-c (x86 fnmsub).
                e.LoadDouble(0, F(op->Rs1));
                e.LoadDouble(1, F(op->Rs2));
                e.LoadDouble(2, F(op->Rs3));
                e.FusedMultiplyAdd213(op->Kind switch { Op.FmaddD => 0xA9, Op.FmsubD => 0xAB, Op.FnmsubD => 0xAD, _ => 0xAF }, 0, 1, 2);
                StoreUnlessNaN(op->Rd, offset, retired);
                return;
            case Op.FsgnjD:
            case Op.FsgnjnD:
            case Op.FsgnjxD:
                e.Load(rax, F(op->Rs1));
                e.Load(rcx, F(op->Rs2));
                e.MoveImmediate(rdx, long.MinValue);
                if (op->Kind == Op.FsgnjnD)
                {
                    e.Alu(X64AluOp.Xor, rcx, rdx);
                }

                e.Alu(X64AluOp.And, rcx, rdx);
                if (op->Kind != Op.FsgnjxD)
                {
                    // Clear rs1's sign, then take rs2's (or its inverse).
                    e.Shift(X64ShiftOp.Shl, rax, 1);
                    e.Shift(X64ShiftOp.Shr, rax, 1);
                    e.Alu(X64AluOp.Or, rax, rcx);
                }
                else
                {
                    e.Alu(X64AluOp.Xor, rax, rcx);
                }

                e.Store(F(op->Rd), rax, 8);
                return;
            case Op.FmvXD:
                if (op->Rd != Decoder.Sink)
                {
                    e.Load(rax, F(op->Rs1));
                    Write(op->Rd, rax);
                }

                return;
            case Op.FmvDX:
                Read(rax, op->Rs1);
                e.Store(F(op->Rd), rax, 8);
                return;
            case Op.FcvtDW:
            case Op.FcvtDL:
                var wide = op->Kind == Op.FcvtDL;
                Read(rax, op->Rs1, wide);
                e.ConvertToDouble(0, rax, wide);
                e.StoreDouble(F(op->Rd), 0);
                return;
            default:
                throw new InvalidOperationException($"cpu: translator: op {op->Kind} is not translatable");
        }
    }

    /// <summary>f[rd] = xmm0, unless it is a NaN: then the interpreter runs the op (canonical NaN, NV rules).</summary>
    private void StoreUnlessNaN(int rd, uint offset, int retired)
    {
        _emitter.CompareDoubles(0, 0);
        SideExit(_emitter.JumpIf(X64Condition.Parity), offset, retired);
        _emitter.StoreDouble(F(rd), 0);
    }
}
