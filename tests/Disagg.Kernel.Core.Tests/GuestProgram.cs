using System.Buffers.Binary;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Cpu.Tests;

namespace Disagg.Kernel.Core.Tests;

/// <summary>
/// Hand-assembled guest code for domain tests: instructions at the start of RAM, data one page
/// later. Addresses are made PC-relative (auipc), because RAM at 0x8000_0000 would sign-extend
/// through lui on RV64.
/// </summary>
internal sealed class GuestProgram
{
    public const ulong CodeBase = PvLayout.RamBase;
    public const ulong DataBase = PvLayout.RamBase + 0x1000;
    public const int A0 = 10, A1 = 11, A2 = 12, A6 = 16, A7 = 17, T0 = 5, T1 = 6, T2 = 7, S1 = 9;

    private readonly List<uint> _code = [];
    private readonly List<byte> _data = [];

    public ulong Here => CodeBase + (ulong)(_code.Count * 4);

    public GuestProgram Emit(uint instruction)
    {
        _code.Add(instruction);
        return this;
    }

    /// <summary>Loads a 32-bit constant (positive or negative) into a register.</summary>
    public GuestProgram Li(int rd, int value)
    {
        var lo = (value << 20) >> 20;
        var hi = value - lo;
        if (hi != 0)
        {
            Emit(Asm.Lui(rd, hi));
            return lo != 0 ? Emit(Asm.Addi(rd, rd, lo)) : this;
        }

        return Emit(Asm.Addi(rd, 0, lo));
    }

    /// <summary>Loads the address of a data item (PC-relative).</summary>
    public GuestProgram La(int rd, ulong address)
    {
        var delta = (long)(address - Here);
        var lo = (int)((delta << 52) >> 52);
        var hi = (int)(delta - lo);
        Emit(0x17u | ((uint)rd << 7) | ((uint)hi & 0xFFFFF000)); // auipc
        return Emit(Asm.Addi(rd, rd, lo));
    }

    public ulong Data(ReadOnlySpan<byte> bytes)
    {
        var at = DataBase + (ulong)_data.Count;
        _data.AddRange(bytes.ToArray());
        while (_data.Count % 8 != 0)
        {
            _data.Add(0);
        }

        return at;
    }

    /// <summary>A hypercall: a7 = XEN, a6 = number, a0..a2 = arguments (already loaded by the caller).</summary>
    public GuestProgram Hypercall(int number) => Li(A6, number).Li(A7, 0x0A58454E).Emit(Asm.Ecall);

    /// <summary>SBI system reset: shutdown (reason 0) or a failure (reason 1).</summary>
    public GuestProgram Shutdown(int reason = 0) => Li(A0, 0).Li(A1, reason).Li(A6, 0).Li(A7, 0x53525354).Emit(Asm.Ecall);

    /// <summary>console_io(write, text): the text goes to the kernel message log as "(dN) text".</summary>
    public GuestProgram Print(string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        var at = Data(bytes);
        return Li(A0, 0).Li(A1, bytes.Length).La(A2, at).Hypercall(18);
    }

    /// <summary>Jumps back <paramref name="instructions"/> instructions (a loop).</summary>
    public GuestProgram JumpBack(int instructions) => Emit(Asm.Jal(0, -4 * instructions));

    public IReadOnlyList<ImageSegment> Build()
    {
        var code = new byte[_code.Count * 4];
        for (var i = 0; i < _code.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(code.AsSpan(i * 4), _code[i]);
        }

        if (code.Length > 0x1000)
        {
            throw new InvalidOperationException("test program code overflows into its data page");
        }

        return [new ImageSegment(CodeBase, code, 0x1000), new ImageSegment(DataBase, [.. _data], (ulong)Math.Max(_data.Count, 8))];
    }
}
