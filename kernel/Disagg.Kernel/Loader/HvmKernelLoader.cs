using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Loader;

/// <summary>
/// Reads the kernel file of an HVM domain as QEMU virt's `-kernel` does: a Linux RISC-V Image (its header's
/// magic; it says where it goes), an ELF (its PT_LOAD segments at their physical addresses, entered at
/// e_entry), or else a raw binary loaded and entered at RAM + <see cref="VirtLayout.RawKernelOffset"/>. The
/// formats cannot be mistaken for each other: an Image's magic sits at 0x30 and an ELF's in its first four
/// bytes, and a file that has one of them and is broken is refused, never booted raw. Files that are surely
/// not a kernel to run (empty, an ELF for another machine or for RV32, compressed) are refused with a
/// reason. Never throws on bad input: <see cref="TryRead"/> returns a reason.
/// </summary>
internal static class HvmKernelLoader
{
    public static bool TryRead(byte[] file, out HvmKernel? kernel, out string error)
    {
        kernel = null;
        if (file.Length == 0)
        {
            error = "the file is empty";
            return false;
        }

        if (LinuxImage.HasMagic(file))
        {
            if (!LinuxImage.TryParse(file, out var image, out var reason))
            {
                error = $"not a usable Linux RISC-V Image: {reason}";
                return false;
            }

            var load = VirtLayout.RamBase + image!.TextOffset;
            kernel = new HvmKernel("Linux Image", [new ImageSegment(load, file, Math.Max(image.ImageSize, (ulong)file.Length))], load);
            error = "";
            return true;
        }

        if (file.Length >= 4 && file[0] == 0x7F && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F')
        {
            return TryReadElf(file, out kernel, out error);
        }

        if (Compression(file) is { } compression)
        {
            error = $"compressed ({compression}): decompress it first (Debian's vmlinuz is a gzip'd Image)";
            return false;
        }

        var at = VirtLayout.RamBase + VirtLayout.RawKernelOffset;
        kernel = new HvmKernel("raw", [new ImageSegment(at, file, (ulong)file.Length)], at);
        error = "";
        return true;
    }

    private static bool TryReadElf(byte[] file, out HvmKernel? kernel, out string error)
    {
        kernel = null;
        if (!ElfImage.TryParse(file, out var elf, out var reason))
        {
            error = $"not a usable RISC-V ELF: {reason}";
            return false;
        }

        if (!elf!.Is64)
        {
            error = "an RV32 ELF: HVM domains are RV64";
            return false;
        }

        // Where each segment lands is checked against the domain's RAM when it is placed (HvmMachine.PrepareBoot).
        kernel = new HvmKernel("ELF", elf.LoadableSegments(file), elf.Entry);
        error = "";
        return true;
    }

    /// <summary>
    /// The magic of the compressions Debian ships kernels in (a raw boot of one would run garbage); each is at
    /// least four bytes that no RISC-V program starts with in practice (gzip's is a reserved 48-bit encoding).
    /// </summary>
    private static string? Compression(ReadOnlySpan<byte> file) => file switch
    {
        [0x1F, 0x8B, ..] => "gzip",
        [0xFD, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00, ..] => "xz",
        [0x28, 0xB5, 0x2F, 0xFD, ..] => "zstd",
        _ => null,
    };
}
