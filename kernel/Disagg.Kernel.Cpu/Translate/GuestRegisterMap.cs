namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// Which guest integer registers live in host registers while translated code runs (rv8's approach: one
/// fixed map for all blocks, so a chained jump from one block into another needs no spills or reloads).
/// The block prologue loads them from the register file, the one epilogue every exit goes through stores
/// them back, so outside translated code the register file is always the whole truth.
/// <para>
/// The choice follows what compiled RISC-V code uses most: the argument/return registers a0-a5, the stack
/// pointer, the frame pointer s0 and the return address. The host registers are every one the block does
/// not need for itself: rax, rcx, rdx are scratch (rcx for shift counts, rdx:rax for wide multiply and
/// divide), rdi holds the register file, r9 the instruction limit and r10 the page's virtual base.
/// Callee-saved ones (rbx, rbp, r12-r15) are pushed by the prologue and popped by the epilogue.
/// </para>
/// </summary>
internal static class GuestRegisterMap
{
    /// <summary>(guest register, host register) pairs.</summary>
    public static readonly (int Guest, X64Register Host)[] Pairs =
    [
        (1, X64Register.Rbx),   // ra
        (2, X64Register.Rbp),   // sp
        (8, X64Register.R12),   // s0
        (10, X64Register.R13),  // a0
        (11, X64Register.R14),  // a1
        (12, X64Register.R15),  // a2
        (13, X64Register.Rsi),  // a3
        (14, X64Register.R11),  // a4
        (15, X64Register.R8),   // a5
    ];

    /// <summary>Host registers the System V ABI says a callee must preserve; the block saves them.</summary>
    public static readonly X64Register[] CalleeSaved =
    [
        X64Register.Rbx, X64Register.Rbp, X64Register.R12, X64Register.R13, X64Register.R14, X64Register.R15,
    ];

    private static readonly X64Register?[] HostOf = Build();

    /// <summary>True when guest register <paramref name="guest"/> (0-32, 32 being the x0 write sink) lives in a host register.</summary>
    public static bool TryHost(int guest, out X64Register host)
    {
        if ((uint)guest < (uint)HostOf.Length && HostOf[guest] is { } h)
        {
            host = h;
            return true;
        }

        host = default;
        return false;
    }

    private static X64Register?[] Build()
    {
        var map = new X64Register?[33];
        foreach (var (guest, host) in Pairs)
        {
            map[guest] = host;
        }

        return map;
    }
}
