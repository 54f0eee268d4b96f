namespace Disagg.TestSupport.LinuxGuest;

/// <summary>
/// Where `make linux-guest` leaves the guest: the Debian kernel Image in the cache outside the checkout
/// (DISAGG_CACHE, default ~/.cache/disagg; tools/fetch-linux.sh) and the initramfs built from
/// guests/linux into out/linux.
/// </summary>
public static class LinuxGuestFiles
{
    public static string Cache => Environment.GetEnvironmentVariable("DISAGG_CACHE") is { Length: > 0 } c
        ? c
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "disagg");

    public static string Kernel => Path.Combine(Cache, "linux", "Image");

    public static string KernelVersion => Path.Combine(Cache, "linux", "version");

    public static string Initramfs => Path.Combine(RepoPaths.Root, "out", "linux", "initramfs.cpio");

    /// <summary>Null when both files are there; otherwise why the boot tests cannot run.</summary>
    public static string? Missing =>
        File.Exists(Kernel) && File.Exists(Initramfs)
            ? null
            : $"the Linux guest is not built ({Kernel}, {Initramfs}): `make linux-guest` fetches Debian's riscv64 kernel; it could not (no network?)";
}
