using System.Buffers.Binary;

namespace Disagg.Toolstack.Config;

/// <summary>
/// What type 'hvm' boots, as QEMU virt's -kernel: a Linux RISC-V Image, an RV64 RISC-V ELF or a raw binary
/// (the kernel reads the file and says what is wrong with a broken Image or ELF; kernel/Disagg.Kernel/Loader).
/// This names, before anything is created, the files that are surely no such kernel.
/// </summary>
public static class HvmKernelCheck
{
    private const ushort MachineRiscV = 243; // e_machine EM_RISCV

    /// <summary>How many leading bytes <see cref="Mistake"/> looks at.</summary>
    public const int HeaderBytes = 20;

    /// <summary>Why the file that starts with <paramref name="head"/> (<paramref name="length"/> bytes in all) is no HVM kernel, or null.</summary>
    public static string? Mistake(ReadOnlySpan<byte> head, long length)
    {
        if (length == 0)
        {
            return "is empty";
        }

        if (!head.StartsWith("\u007fELF"u8))
        {
            return null;
        }

        if (head.Length < HeaderBytes)
        {
            return "is a truncated ELF";
        }

        var machine = BinaryPrimitives.ReadUInt16LittleEndian(head[18..]);
        return machine != MachineRiscV ? $"is an ELF for machine {machine}, not RISC-V ({MachineRiscV})"
            : head[4] != 2 ? "is an RV32 ELF"
            : null;
    }
}
