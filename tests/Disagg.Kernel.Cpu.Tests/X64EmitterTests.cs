using Disagg.Kernel.Cpu.Translate;
using R = Disagg.Kernel.Cpu.Translate.X64Register;

namespace Disagg.Kernel.Cpu.Tests;

/// <summary>
/// Pins the emitter's encodings to known bytes (each checked against `objdump -D -b binary -mi386:x86-64`),
/// covering REX.W/R/X/B, the forced REX of sil/dil byte registers, SIB for rsp/r12 bases and indexes,
/// the forced displacement of rbp/r13 bases, disp8 vs disp32, imm8 vs imm32 and the three mov-immediate forms.
/// </summary>
public class X64EmitterTests
{
    public static TheoryData<string, string> Encodings => new()
    {
        { "mov rax,[rdi+8]", "48 8B 47 08" },
        { "mov eax,[rdi+8]", "8B 47 08" },
        { "mov [rdi+256],rax", "48 89 87 00 01 00 00" },
        { "mov [rax],dl", "88 10" },
        { "mov [rax],dx", "66 89 10" },
        { "mov [rax],sil", "40 88 30" },
        { "mov [r9],r8b", "45 88 01" },
        { "mov qword [rdi+16],-5", "48 C7 47 10 FB FF FF FF" },
        { "mov r10,rdx", "4C 8B D2" },
        { "mov eax,eax", "8B C0" },
        { "mov eax,0x12345678", "B8 78 56 34 12" },
        { "mov r9d,1", "41 B9 01 00 00 00" },
        { "mov rax,-1", "48 C7 C0 FF FF FF FF" },
        { "movabs rax,0x123456789a", "48 B8 9A 78 56 34 12 00 00 00" },
        { "movzx eax,byte [rax]", "0F B6 00" },
        { "movsx rax,byte [rax]", "48 0F BE 00" },
        { "movsxd rax,dword [rax]", "48 63 00" },
        { "movzx eax,word [rax]", "0F B7 00" },
        { "movsx rax,word [rax]", "48 0F BF 00" },
        { "movsxd rax,eax", "48 63 C0" },
        { "movzx eax,al", "0F B6 C0" },
        { "movzx esi,sil", "40 0F B6 F6" },
        { "add rax,[rdi+24]", "48 03 47 18" },
        { "cmp rdx,[rcx]", "48 3B 11" },
        { "add rcx,rsi", "48 03 CE" },
        { "add rax,5", "48 83 C0 05" },
        { "and ecx,255", "81 E1 FF 00 00 00" },
        { "and rdx,-4096", "48 81 E2 00 F0 FF FF" },
        { "cmp rax,-1", "48 83 F8 FF" },
        { "shr rcx,12", "48 C1 E9 0C" },
        { "sar eax,3", "C1 F8 03" },
        { "shl rax,cl", "48 D3 E0" },
        { "imul rax,[rdi+16]", "48 0F AF 47 10" },
        { "imul eax,[rdi+16]", "0F AF 47 10" },
        { "imul rcx,rcx,48", "48 69 C9 30 00 00 00" },
        { "imul qword [rdi+8]", "48 F7 6F 08" },
        { "mul qword [rdi+8]", "48 F7 67 08" },
        { "lea rax,[r10+4]", "49 8D 42 04" },
        { "lea rax,[r10+0x1000]", "49 8D 82 00 10 00 00" },
        { "sete al", "0F 94 C0" },
        { "setl sil", "40 0F 9C C6" },
        { "mov rax,[rsp]", "48 8B 04 24" },
        { "mov rax,[r12+8]", "49 8B 44 24 08" },
        { "mov rax,[rbp]", "48 8B 45 00" },
        { "mov rax,[r13]", "49 8B 45 00" },
        { "mov rax,[rdi+rcx*8+16]", "48 8B 44 CF 10" },
        { "mov rax,[r8+r9*4]", "4B 8B 04 88" },
        { "jmp rcx", "FF E1" },
        { "jmp r9", "41 FF E1" },
        { "ret", "C3" },
        { "push rbx", "53" },
        { "push r12", "41 54" },
        { "pop r15", "41 5F" },
        { "pop rbp", "5D" },
        { "idiv rcx", "48 F7 F9" },
        { "div ecx", "F7 F1" },
        { "neg rax", "48 F7 D8" },
        { "neg eax", "F7 D8" },
        { "test rcx,rcx", "48 85 C9" },
        { "cqo", "48 99" },
        { "cdq", "99" },
        { "imul rax,rcx", "48 0F AF C1" },
        { "imul eax,ecx", "0F AF C1" },
        { "mul rcx", "48 F7 E1" },
        { "imul rcx", "48 F7 E9" },
        { "movsd xmm1,[rdi+8]", "F2 0F 10 4F 08" },
        { "movsd [rdi+8],xmm0", "F2 0F 11 47 08" },
        { "addsd xmm0,[rdi+336]", "F2 0F 58 87 50 01 00 00" },
        { "divsd xmm0,[rdi+8]", "F2 0F 5E 47 08" },
        { "ucomisd xmm0,xmm0", "66 0F 2E C0" },
        { "cvtsi2sd xmm0,rax", "F2 48 0F 2A C0" },
        { "cvtsi2sd xmm0,eax", "F2 0F 2A C0" },
        { "vfmadd213sd xmm0,xmm1,xmm2", "C4 E2 F1 A9 C2" },
        { "vfnmsub213sd xmm0,xmm1,xmm2", "C4 E2 F1 AF C2" },
        { "ldmxcsr [rdi+288]", "0F AE 97 20 01 00 00" },
        { "stmxcsr [rdi+288]", "0F AE 9F 20 01 00 00" },
        { "mov dword [rdi+288],0x1f80", "C7 87 20 01 00 00 80 1F 00 00" },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void EncodesAsTheAssemblerDoes(string instruction, string bytes)
    {
        var e = new X64Emitter(8);
        Emit(e, instruction);
        Assert.Equal(bytes, Convert.ToHexString(e.Code).Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + " " + b));
    }

    [Fact]
    public void ForwardAndBackwardJumpsArePatchedRelativeToTheNextInstruction()
    {
        var e = new X64Emitter(4);
        var forward = e.JumpIf(X64Condition.NotEqual);
        e.Return();
        e.Bind(forward);
        var back = e.Jump();
        e.BindTo(back, 0);
        Assert.Equal("0F8501000000C3E9F4FFFFFF", Convert.ToHexString(e.Code));
    }

    [Fact]
    public void RspCannotBeAnIndexAndScalesAreOneTwoFourOrEight()
    {
        Assert.Throws<ArgumentException>(() => X64Memory.Indexed(R.Rax, R.Rsp, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => X64Memory.Indexed(R.Rax, R.Rcx, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new X64Emitter().Store(X64Memory.At(R.Rax), R.Rdx, 3));
    }

    [Fact]
    public void TheBufferGrowsPastItsInitialCapacity()
    {
        var e = new X64Emitter(2);
        for (var i = 0; i < 100; i++)
        {
            e.MoveImmediate(R.Rax, 0x123456789A);
        }

        Assert.Equal(1000, e.Length);
        e.Clear();
        Assert.Equal(0, e.Length);
    }

    private static void Emit(X64Emitter e, string instruction)
    {
        var rdi = X64Memory.At(R.Rdi, 8);
        switch (instruction)
        {
            case "mov rax,[rdi+8]": e.Load(R.Rax, rdi); break;
            case "mov eax,[rdi+8]": e.Load(R.Rax, rdi, wide: false); break;
            case "mov [rdi+256],rax": e.Store(X64Memory.At(R.Rdi, 256), R.Rax, 8); break;
            case "mov [rax],dl": e.Store(X64Memory.At(R.Rax), R.Rdx, 1); break;
            case "mov [rax],dx": e.Store(X64Memory.At(R.Rax), R.Rdx, 2); break;
            case "mov [rax],sil": e.Store(X64Memory.At(R.Rax), R.Rsi, 1); break;
            case "mov [r9],r8b": e.Store(X64Memory.At(R.R9), R.R8, 1); break;
            case "mov qword [rdi+16],-5": e.StoreImmediate(X64Memory.At(R.Rdi, 16), -5); break;
            case "mov r10,rdx": e.Move(R.R10, R.Rdx); break;
            case "mov eax,eax": e.Move(R.Rax, R.Rax, wide: false); break;
            case "mov eax,0x12345678": e.MoveImmediate(R.Rax, 0x12345678); break;
            case "mov r9d,1": e.MoveImmediate(R.R9, 1); break;
            case "mov rax,-1": e.MoveImmediate(R.Rax, -1); break;
            case "movabs rax,0x123456789a": e.MoveImmediate(R.Rax, 0x123456789A); break;
            case "movzx eax,byte [rax]": e.LoadExtend(R.Rax, X64Memory.At(R.Rax), 1, signed: false); break;
            case "movsx rax,byte [rax]": e.LoadExtend(R.Rax, X64Memory.At(R.Rax), 1, signed: true); break;
            case "movsxd rax,dword [rax]": e.LoadExtend(R.Rax, X64Memory.At(R.Rax), 4, signed: true); break;
            case "movzx eax,word [rax]": e.LoadExtend(R.Rax, X64Memory.At(R.Rax), 2, signed: false); break;
            case "movsx rax,word [rax]": e.LoadExtend(R.Rax, X64Memory.At(R.Rax), 2, signed: true); break;
            case "movsxd rax,eax": e.SignExtend32(R.Rax, R.Rax); break;
            case "movzx eax,al": e.ZeroExtend8(R.Rax, R.Rax); break;
            case "movzx esi,sil": e.ZeroExtend8(R.Rsi, R.Rsi); break;
            case "add rax,[rdi+24]": e.Alu(X64AluOp.Add, R.Rax, X64Memory.At(R.Rdi, 24)); break;
            case "cmp rdx,[rcx]": e.Alu(X64AluOp.Cmp, R.Rdx, X64Memory.At(R.Rcx)); break;
            case "add rcx,rsi": e.Alu(X64AluOp.Add, R.Rcx, R.Rsi); break;
            case "movsd xmm1,[rdi+8]": e.LoadDouble(1, rdi); break;
            case "movsd [rdi+8],xmm0": e.StoreDouble(rdi, 0); break;
            case "addsd xmm0,[rdi+336]": e.DoubleArithmetic(0x58, 0, X64Memory.At(R.Rdi, 336)); break;
            case "divsd xmm0,[rdi+8]": e.DoubleArithmetic(0x5E, 0, rdi); break;
            case "ucomisd xmm0,xmm0": e.CompareDoubles(0, 0); break;
            case "cvtsi2sd xmm0,rax": e.ConvertToDouble(0, R.Rax, wide: true); break;
            case "cvtsi2sd xmm0,eax": e.ConvertToDouble(0, R.Rax, wide: false); break;
            case "vfmadd213sd xmm0,xmm1,xmm2": e.FusedMultiplyAdd213(0xA9, 0, 1, 2); break;
            case "vfnmsub213sd xmm0,xmm1,xmm2": e.FusedMultiplyAdd213(0xAF, 0, 1, 2); break;
            case "ldmxcsr [rdi+288]": e.LoadMxcsr(X64Memory.At(R.Rdi, 288)); break;
            case "stmxcsr [rdi+288]": e.StoreMxcsr(X64Memory.At(R.Rdi, 288)); break;
            case "mov dword [rdi+288],0x1f80": e.StoreImmediate32(X64Memory.At(R.Rdi, 288), 0x1F80); break;
            case "push rbx": e.Push(R.Rbx); break;
            case "push r12": e.Push(R.R12); break;
            case "pop r15": e.Pop(R.R15); break;
            case "pop rbp": e.Pop(R.Rbp); break;
            case "idiv rcx": e.Divide(R.Rcx, signed: true); break;
            case "div ecx": e.Divide(R.Rcx, signed: false, wide: false); break;
            case "neg rax": e.Negate(R.Rax); break;
            case "neg eax": e.Negate(R.Rax, wide: false); break;
            case "test rcx,rcx": e.Test(R.Rcx, R.Rcx); break;
            case "cqo": e.SignExtendIntoRdx(); break;
            case "cdq": e.SignExtendIntoRdx(wide: false); break;
            case "imul rax,rcx": e.Multiply(R.Rax, R.Rcx); break;
            case "imul eax,ecx": e.Multiply(R.Rax, R.Rcx, wide: false); break;
            case "mul rcx": e.MultiplyWide(R.Rcx, signed: false); break;
            case "imul rcx": e.MultiplyWide(R.Rcx, signed: true); break;
            case "add rax,5": e.AluImmediate(X64AluOp.Add, R.Rax, 5); break;
            case "and ecx,255": e.AluImmediate(X64AluOp.And, R.Rcx, 255, wide: false); break;
            case "and rdx,-4096": e.AluImmediate(X64AluOp.And, R.Rdx, -4096); break;
            case "cmp rax,-1": e.AluImmediate(X64AluOp.Cmp, R.Rax, -1); break;
            case "shr rcx,12": e.Shift(X64ShiftOp.Shr, R.Rcx, 12); break;
            case "sar eax,3": e.Shift(X64ShiftOp.Sar, R.Rax, 3, wide: false); break;
            case "shl rax,cl": e.ShiftByCl(X64ShiftOp.Shl, R.Rax); break;
            case "imul rax,[rdi+16]": e.Multiply(R.Rax, X64Memory.At(R.Rdi, 16)); break;
            case "imul eax,[rdi+16]": e.Multiply(R.Rax, X64Memory.At(R.Rdi, 16), wide: false); break;
            case "imul rcx,rcx,48": e.MultiplyImmediate(R.Rcx, R.Rcx, 48); break;
            case "imul qword [rdi+8]": e.MultiplyWide(rdi, signed: true); break;
            case "mul qword [rdi+8]": e.MultiplyWide(rdi, signed: false); break;
            case "lea rax,[r10+4]": e.LoadAddress(R.Rax, X64Memory.At(R.R10, 4)); break;
            case "lea rax,[r10+0x1000]": e.LoadAddress(R.Rax, X64Memory.At(R.R10, 0x1000)); break;
            case "sete al": e.SetIf(X64Condition.Equal, R.Rax); break;
            case "setl sil": e.SetIf(X64Condition.Less, R.Rsi); break;
            case "mov rax,[rsp]": e.Load(R.Rax, X64Memory.At(R.Rsp)); break;
            case "mov rax,[r12+8]": e.Load(R.Rax, X64Memory.At(R.R12, 8)); break;
            case "mov rax,[rbp]": e.Load(R.Rax, X64Memory.At(R.Rbp)); break;
            case "mov rax,[r13]": e.Load(R.Rax, X64Memory.At(R.R13)); break;
            case "mov rax,[rdi+rcx*8+16]": e.Load(R.Rax, X64Memory.Indexed(R.Rdi, R.Rcx, 8, 16)); break;
            case "mov rax,[r8+r9*4]": e.Load(R.Rax, X64Memory.Indexed(R.R8, R.R9, 4)); break;
            case "jmp rcx": e.JumpTo(R.Rcx); break;
            case "jmp r9": e.JumpTo(R.R9); break;
            case "ret": e.Return(); break;
            default: throw new ArgumentException(instruction);
        }
    }
}
