using System.Buffers.Binary;

namespace Disagg.Kernel.Loader;

/// <summary>
/// A Linux RISC-V `Image` reduced to its boot header (Documentation/arch/riscv/boot-image-header.rst;
/// spec/hvm-platform.md, "Linux boot protocol"): 64 bytes of code0, code1, text_offset (u64: load
/// offset from the start of RAM), image_size (u64: memory the kernel uses from there, more than the
/// file), flags (bit 0: big-endian), version, reserved words, the magic "RISCV\0\0\0" at 0x30 and
/// "RSC\x05" at 0x38. An EFI-stub kernel starts with "MZ"; booted directly, that is an instruction
/// pair that jumps to the real entry. Parsing never throws on bad input.
/// </summary>
internal sealed class LinuxImage
{
    public const int HeaderSize = 64;

    private const ulong Magic = 0x0000_0056_4353_4952; // "RISCV\0\0\0", little-endian
    private const uint Magic2 = 0x0543_5352; // "RSC\x05"

    /// <summary>Anything above this is not a text offset a boot loader honours (2 MiB on RV64, 4 MiB on RV32).</summary>
    private const ulong MaxTextOffset = 64UL << 20;

    private LinuxImage(ulong textOffset, ulong imageSize)
    {
        TextOffset = textOffset;
        ImageSize = imageSize;
    }

    public ulong TextOffset { get; }

    public ulong ImageSize { get; }

    /// <summary>True when the bytes carry the RISC-V Image magic: an image meant for this loader, well-formed or not.</summary>
    /// <remarks>A file cut short after the magic still has it: it is a truncated Image, not a raw binary.</remarks>
    public static bool HasMagic(ReadOnlySpan<byte> file) =>
        (file.Length >= 0x38 && BinaryPrimitives.ReadUInt64LittleEndian(file[0x30..]) == Magic)
        || (file.Length >= 0x3C && BinaryPrimitives.ReadUInt32LittleEndian(file[0x38..]) == Magic2);

    public static bool TryParse(ReadOnlySpan<byte> file, out LinuxImage? image, out string error)
    {
        image = null;
        if (!HasMagic(file))
        {
            error = "not a Linux RISC-V Image (no \"RISCV\" magic at 0x30)";
            return false;
        }

        if (file.Length < HeaderSize)
        {
            error = $"a {file.Length}-byte file: the {HeaderSize}-byte header is truncated";
            return false;
        }

        var textOffset = BinaryPrimitives.ReadUInt64LittleEndian(file[8..]);
        var imageSize = BinaryPrimitives.ReadUInt64LittleEndian(file[16..]);
        var flags = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
        if ((flags & 1) != 0)
        {
            error = "a big-endian Image";
            return false;
        }

        if (textOffset > MaxTextOffset || (textOffset & 0xFFF) != 0)
        {
            error = $"text_offset 0x{textOffset:x} is not a page-aligned offset below {MaxTextOffset >> 20} MiB";
            return false;
        }

        // image_size 0 comes from kernels before 4.x's header version 0.2: then the file is all there is.
        if (imageSize == 0)
        {
            imageSize = (ulong)file.Length;
        }

        if (imageSize < (ulong)file.Length)
        {
            error = $"image_size {imageSize} is smaller than the {file.Length}-byte file";
            return false;
        }

        image = new LinuxImage(textOffset, imageSize);
        error = "";
        return true;
    }
}
