namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Appends x86-64 machine code to a reusable buffer: the handful of instruction forms the block
/// translator needs, each encoded here once (REX, ModRM, SIB, displacement, immediate). Jumps are
/// rel32 and return their patch position, bound later with <see cref="Bind"/>, so forward exits can
/// be laid out after the block body. Widths: <c>wide</c> true is the 64-bit form (REX.W).
/// </summary>
internal sealed class X64Emitter
{
    private byte[] _code;

    public X64Emitter(int capacity = 4096) => _code = new byte[capacity];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Code => _code.AsSpan(0, Length);

    public void Clear() => Length = 0;

    /// <summary>mov dst, [mem] (32-bit form zero-extends).</summary>
    public void Load(X64Register dst, X64Memory src, bool wide = true) => Op(wide, 0x8B, (int)dst, src);

    /// <summary>mov [mem], src with a store of 1, 2, 4 or 8 bytes.</summary>
    public void Store(X64Memory dst, X64Register src, int bytes)
    {
        switch (bytes)
        {
            case 1:
                Op(false, 0x88, (int)src, dst, byteRegister: src);
                break;
            case 2:
                Byte(0x66);
                Op(false, 0x89, (int)src, dst);
                break;
            case 4:
                Op(false, 0x89, (int)src, dst);
                break;
            case 8:
                Op(true, 0x89, (int)src, dst);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(bytes));
        }
    }

    /// <summary>mov qword [mem], imm32 (sign-extended).</summary>
    public void StoreImmediate(X64Memory dst, int imm)
    {
        Op(true, 0xC7, 0, dst);
        Int(imm);
    }

    /// <summary>mov dst, src.</summary>
    public void Move(X64Register dst, X64Register src, bool wide = true) => OpRegisters(wide, 0x8B, (int)dst, src);

    /// <summary>dst = imm in the shortest form: mov r32 (zero-extends), mov r/m64 imm32 (sign-extends) or movabs.</summary>
    public void MoveImmediate(X64Register dst, long imm)
    {
        if (imm is >= 0 and <= uint.MaxValue)
        {
            Rex(false, 0, 0, (int)dst);
            Byte((byte)(0xB8 + ((int)dst & 7)));
            Int((int)(uint)imm);
        }
        else if (imm is >= int.MinValue and <= int.MaxValue)
        {
            OpRegisters(true, 0xC7, 0, dst);
            Int((int)imm);
        }
        else
        {
            Rex(true, 0, 0, (int)dst);
            Byte((byte)(0xB8 + ((int)dst & 7)));
            Long(imm);
        }
    }

    /// <summary>Loads with sign or zero extension to 64 bits: 1, 2 or 4 bytes (4 unsigned is a plain 32-bit mov).</summary>
    public void LoadExtend(X64Register dst, X64Memory src, int bytes, bool signed)
    {
        switch (bytes, signed)
        {
            case (1, false): Op(false, 0x0FB6, (int)dst, src); break;
            case (2, false): Op(false, 0x0FB7, (int)dst, src); break;
            case (1, true): Op(true, 0x0FBE, (int)dst, src); break;
            case (2, true): Op(true, 0x0FBF, (int)dst, src); break;
            case (4, true): Op(true, 0x63, (int)dst, src); break;
            case (4, false): Op(false, 0x8B, (int)dst, src); break;
            case (8, _): Op(true, 0x8B, (int)dst, src); break;
            default: throw new ArgumentOutOfRangeException(nameof(bytes));
        }
    }

    /// <summary>movsxd dst, src32.</summary>
    public void SignExtend32(X64Register dst, X64Register src) => OpRegisters(true, 0x63, (int)dst, src);

    /// <summary>movzx dst32, src8.</summary>
    public void ZeroExtend8(X64Register dst, X64Register src) => OpRegisters(false, 0x0FB6, (int)dst, src, byteRegister: src);

    /// <summary>dst op= [mem].</summary>
    public void Alu(X64AluOp op, X64Register dst, X64Memory src, bool wide = true) => Op(wide, (int)op * 8 + 3, (int)dst, src);

    /// <summary>dst op= src.</summary>
    public void Alu(X64AluOp op, X64Register dst, X64Register src, bool wide = true) => OpRegisters(wide, (int)op * 8 + 3, (int)dst, src);

    /// <summary>dst op= imm (sign-extended imm8 form when it fits).</summary>
    public void AluImmediate(X64AluOp op, X64Register dst, int imm, bool wide = true)
    {
        if (imm is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            OpRegisters(wide, 0x83, (int)op, dst);
            Byte((byte)imm);
        }
        else
        {
            OpRegisters(wide, 0x81, (int)op, dst);
            Int(imm);
        }
    }

    /// <summary>dst op= imm8.</summary>
    public void Shift(X64ShiftOp op, X64Register dst, byte amount, bool wide = true)
    {
        OpRegisters(wide, 0xC1, (int)op, dst);
        Byte(amount);
    }

    /// <summary>dst op= cl (the count is masked by the CPU to 5 or 6 bits, as RISC-V masks it).</summary>
    public void ShiftByCl(X64ShiftOp op, X64Register dst, bool wide = true) => OpRegisters(wide, 0xD3, (int)op, dst);

    /// <summary>imul dst, [mem]: the low half of the product.</summary>
    public void Multiply(X64Register dst, X64Memory src, bool wide = true) => Op(wide, 0x0FAF, (int)dst, src);

    /// <summary>imul dst, src, imm32.</summary>
    public void MultiplyImmediate(X64Register dst, X64Register src, int imm)
    {
        OpRegisters(true, 0x69, (int)dst, src);
        Int(imm);
    }

    /// <summary>imul dst, src: the low half of the product.</summary>
    public void Multiply(X64Register dst, X64Register src, bool wide = true) => OpRegisters(wide, 0x0FAF, (int)dst, src);

    /// <summary>rdx:rax = rax * src, signed (imul) or unsigned (mul).</summary>
    public void MultiplyWide(X64Register src, bool signed) => OpRegisters(true, 0xF7, signed ? 5 : 4, src);

    /// <summary>rax = rdx:rax / src, rdx = the remainder: signed (idiv) or unsigned (div). The caller rules out #DE.</summary>
    public void Divide(X64Register src, bool signed, bool wide = true) => OpRegisters(wide, 0xF7, signed ? 7 : 6, src);

    /// <summary>cqo (64-bit) or cdq (32-bit): rdx = the sign of rax.</summary>
    public void SignExtendIntoRdx(bool wide = true)
    {
        if (wide)
        {
            Byte(0x48);
        }

        Byte(0x99);
    }

    /// <summary>neg dst.</summary>
    public void Negate(X64Register dst, bool wide = true) => OpRegisters(wide, 0xF7, 3, dst);

    /// <summary>test a, b (flags of a AND b).</summary>
    public void Test(X64Register a, X64Register b, bool wide = true) => OpRegisters(wide, 0x85, (int)b, a);

    /// <summary>push reg (64-bit).</summary>
    public void Push(X64Register reg)
    {
        Rex(false, 0, 0, (int)reg);
        Byte((byte)(0x50 + ((int)reg & 7)));
    }

    /// <summary>pop reg (64-bit).</summary>
    public void Pop(X64Register reg)
    {
        Rex(false, 0, 0, (int)reg);
        Byte((byte)(0x58 + ((int)reg & 7)));
    }

    /// <summary>rdx:rax = rax * [mem], signed (imul) or unsigned (mul).</summary>
    public void MultiplyWide(X64Memory src, bool signed) => Op(true, 0xF7, signed ? 5 : 4, src);

    /// <summary>lea dst, [mem].</summary>
    public void LoadAddress(X64Register dst, X64Memory src) => Op(true, 0x8D, (int)dst, src);

    /// <summary>setcc dst8.</summary>
    public void SetIf(X64Condition condition, X64Register dst) => OpRegisters(false, 0x0F90 + (int)condition, 0, dst, byteRegister: dst);

    /// <summary>jcc rel32 to a position bound later; returns the patch position.</summary>
    public int JumpIf(X64Condition condition)
    {
        Byte(0x0F);
        Byte((byte)(0x80 + (int)condition));
        Int(0);
        return Length - 4;
    }

    /// <summary>jmp rel32 to a position bound later; returns the patch position.</summary>
    public int Jump()
    {
        Byte(0xE9);
        Int(0);
        return Length - 4;
    }

    /// <summary>Points the rel32 at <paramref name="patch"/> to the current position.</summary>
    public void Bind(int patch) => BindTo(patch, Length);

    /// <summary>Points the rel32 at <paramref name="patch"/> to <paramref name="target"/>.</summary>
    public void BindTo(int patch, int target) => BitConverter.TryWriteBytes(_code.AsSpan(patch, 4), target - (patch + 4));

    /// <summary>jmp register (indirect).</summary>
    public void JumpTo(X64Register target) => OpRegisters(false, 0xFF, 4, target);

    public void Return() => Byte(0xC3);

    /// <summary>movsd xmm, [mem] (the low double; the rest of the register is zeroed).</summary>
    public void LoadDouble(int xmm, X64Memory src) => Prefixed(0xF2, false, 0x0F10, xmm, src);

    /// <summary>movsd [mem], xmm.</summary>
    public void StoreDouble(X64Memory dst, int xmm) => Prefixed(0xF2, false, 0x0F11, xmm, dst);

    /// <summary>addsd/subsd/mulsd/divsd xmm, [mem] (opcode 0x58, 0x5C, 0x59, 0x5E).</summary>
    public void DoubleArithmetic(byte opcode, int xmm, X64Memory src) => Prefixed(0xF2, false, 0x0F00 | opcode, xmm, src);

    /// <summary>ucomisd a, b: PF set when either is NaN.</summary>
    public void CompareDoubles(int a, int b)
    {
        Byte(0x66);
        OpRegisters(false, 0x0F2E, a, (X64Register)b);
    }

    /// <summary>cvtsi2sd xmm, src: from a signed 64-bit (wide) or 32-bit integer, rounded by MXCSR.</summary>
    public void ConvertToDouble(int xmm, X64Register src, bool wide)
    {
        Byte(0xF2);
        OpRegisters(wide, 0x0F2A, xmm, src);
    }

    /// <summary>
    /// The FMA3 213 form on xmm0-xmm7: dst = src1 * dst ± src2 (opcode 0xA9 fmadd, 0xAB fmsub, 0xAD fnmadd,
    /// 0xAF fnmsub; VEX.LIG.66.0F38.W1), one rounding.
    /// </summary>
    public void FusedMultiplyAdd213(byte opcode, int dst, int src1, int src2)
    {
        Byte(0xC4);
        Byte(0xE2);
        Byte((byte)(0x80 | ((~src1 & 15) << 3) | 0x01));
        Byte(opcode);
        Byte((byte)(0xC0 | ((dst & 7) << 3) | (src2 & 7)));
    }

    /// <summary>ldmxcsr [mem].</summary>
    public void LoadMxcsr(X64Memory src) => Op(false, 0x0FAE, 2, src);

    /// <summary>stmxcsr [mem].</summary>
    public void StoreMxcsr(X64Memory dst) => Op(false, 0x0FAE, 3, dst);

    /// <summary>mov dword [mem], imm32.</summary>
    public void StoreImmediate32(X64Memory dst, int imm)
    {
        Op(false, 0xC7, 0, dst);
        Int(imm);
    }

    /// <summary>A mandatory-prefix SSE op: the prefix byte goes before any REX.</summary>
    private void Prefixed(byte prefix, bool wide, int opcode, int reg, X64Memory mem)
    {
        Byte(prefix);
        Op(wide, opcode, reg, mem);
    }

    /// <summary>One opcode (one byte, or two when the value has 0x0F in its high byte) with a register and a ModRM memory operand.</summary>
    private void Op(bool wide, int opcode, int reg, X64Memory mem, X64Register? byteRegister = null)
    {
        var index = mem.HasIndex ? (int)mem.Index : 0;
        var forceRex = byteRegister is { } b && (int)b is >= 4 and < 8;
        Rex(wide, reg, index, (int)mem.Base, forceRex);
        Opcode(opcode);
        ModRm(reg, mem);
    }

    /// <summary>One opcode with a register-direct ModRM (mod = 11): reg field and rm register.</summary>
    private void OpRegisters(bool wide, int opcode, int reg, X64Register rm, X64Register? byteRegister = null)
    {
        var forceRex = byteRegister is { } b && (int)b is >= 4 and < 8;
        Rex(wide, reg, 0, (int)rm, forceRex);
        Opcode(opcode);
        Byte((byte)(0xC0 | ((reg & 7) << 3) | ((int)rm & 7)));
    }

    private void Opcode(int opcode)
    {
        if (opcode > 0xFF)
        {
            Byte((byte)(opcode >> 8));
        }

        Byte((byte)opcode);
    }

    private void Rex(bool wide, int reg, int index, int rm, bool force = false)
    {
        var rex = (wide ? 8 : 0) | ((reg >> 3) << 2) | ((index >> 3) << 1) | (rm >> 3);
        if (rex != 0 || force)
        {
            Byte((byte)(0x40 | rex));
        }
    }

    private void ModRm(int reg, X64Memory mem)
    {
        var baseLow = (int)mem.Base & 7;
        var disp = mem.Displacement;

        // [rbp]/[r13] with mod 00 means rip-relative / no base: they always carry a displacement.
        var mod = disp == 0 && baseLow != 5 ? 0 : disp is >= sbyte.MinValue and <= sbyte.MaxValue ? 1 : 2;
        var needsSib = mem.HasIndex || baseLow == 4;
        Byte((byte)((mod << 6) | ((reg & 7) << 3) | (needsSib ? 4 : baseLow)));
        if (needsSib)
        {
            var scaleBits = mem.Scale switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };
            var index = mem.HasIndex ? (int)mem.Index & 7 : 4;
            Byte((byte)((scaleBits << 6) | (index << 3) | baseLow));
        }

        if (mod == 1)
        {
            Byte((byte)disp);
        }
        else if (mod == 2)
        {
            Int(disp);
        }
    }

    private void Byte(byte b)
    {
        if (Length == _code.Length)
        {
            Array.Resize(ref _code, _code.Length * 2);
        }

        _code[Length++] = b;
    }

    private void Int(int v)
    {
        for (var i = 0; i < 4; i++)
        {
            Byte((byte)(v >> (8 * i)));
        }
    }

    private void Long(long v)
    {
        Int((int)v);
        Int((int)(v >> 32));
    }
}
