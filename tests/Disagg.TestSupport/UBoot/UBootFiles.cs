using Disagg.TestSupport.LinuxGuest;

namespace Disagg.TestSupport.UBoot;

/// <summary>
/// Where `make deps` (tools/fetch-uboot.sh) leaves Debian's S-mode U-Boot for QEMU virt: in the cache outside
/// the checkout (DISAGG_CACHE, default ~/.cache/disagg), as the raw u-boot.bin and the same as uboot.elf.
/// </summary>
public static class UBootFiles
{
    public static string Raw => Path.Combine(LinuxGuestFiles.Cache, "u-boot", "u-boot.bin");

    public static string Elf => Path.Combine(LinuxGuestFiles.Cache, "u-boot", "uboot.elf");

    /// <summary>Null when both files are there; otherwise why the U-Boot tests cannot run.</summary>
    public static string? Missing =>
        File.Exists(Raw) && File.Exists(Elf)
            ? null
            : $"U-Boot is not fetched ({Raw}): `make deps` fetches Debian's u-boot-qemu (tools/fetch-uboot.sh); it could not (no network?)";
}
