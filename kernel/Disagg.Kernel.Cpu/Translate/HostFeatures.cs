using System.Runtime.Intrinsics.X86;

namespace Disagg.Kernel.Cpu.Translate;

/// <summary>
/// What the host CPU can run of the code the translator emits, asked of the CPU itself. Not
/// <c>Fma.IsSupported</c>: NativeAOT (the shipped kernel) compiles for x86-64-v1 and makes that a constant
/// false, yet the translator emits its own machine code and needs only the CPU and the OS to support it.
/// (On the NativeAOT build every fused multiply-add left its block for the interpreter: 2.7 M exits in
/// RV32 bench-cpu, which put it below QEMU.)
/// </summary>
internal static unsafe class HostFeatures
{
    /// <summary>FMA3 usable: the CPU has FMA and AVX, and the OS saves the YMM state (XCR0 bits 1 and 2).</summary>
    public static readonly bool Fma3 = ProbeFma3();

    private static bool ProbeFma3()
    {
        if (!X86Base.IsSupported)
        {
            return false;
        }

        var ecx = X86Base.CpuId(1, 0).Ecx;
        const int Fma = 1 << 12, OsXsave = 1 << 27, Avx = 1 << 28;
        return (ecx & (Fma | OsXsave | Avx)) == (Fma | OsXsave | Avx) && (ReadXcr0() & 6) == 6;
    }

    /// <summary>XGETBV(0), which .NET does not expose: six bytes of code in a page of their own, run once.</summary>
    private static ulong ReadXcr0()
    {
        ReadOnlySpan<byte> code = [0x31, 0xC9, 0x0F, 0x01, 0xD0, 0xC3]; // xor ecx, ecx; xgetbv; ret (edx:eax, eax is enough)
        var page = MemoryMapping.Map(null, 4096, MemoryMapping.ProtectRead | MemoryMapping.ProtectWrite, MemoryMapping.MapPrivate | MemoryMapping.MapAnonymous, -1, 0);
        if (page == (void*)-1)
        {
            return 0;
        }

        try
        {
            code.CopyTo(new Span<byte>(page, code.Length));
            if (MemoryMapping.Protect(page, 4096, MemoryMapping.ProtectRead | MemoryMapping.ProtectExecute) != 0)
            {
                return 0;
            }

            return ((delegate* unmanaged<uint>)page)();
        }
        finally
        {
            MemoryMapping.Unmap(page, 4096);
        }
    }
}
