using System.Globalization;
using System.Text;
using Disagg.DiskImage;

namespace Disagg.Toolstack.Config;

/// <summary>
/// What `disagg new` asks for, each field checked on its own (so a prompt can re-ask, and a flag's error
/// names the field), and what it makes of the answers: a disk image (raw or qcow2, through the disk image
/// library blkback serves them with) and a config file in xl.cfg syntax that `disagg create` accepts.
/// </summary>
public sealed record GuestTemplate
{
    public const long MiB = 1 << 20;

    /// <summary>The largest disk `new` makes: 2 TiB (qcow2 and sparse raw files cost nothing until written).</summary>
    public const long MaxDiskBytes = 2L << 40;

    public required string Name { get; init; }

    /// <summary>pv (our guest OS, an ELF image) or hvm (an unmodified kernel or boot loader, with qemu-dm).</summary>
    public DomainType Type { get; init; } = DomainType.Pv;

    /// <summary>Absolute path of the guest's kernel: an ELF image (pv) or a Linux RISC-V Image, an ELF or a raw binary (hvm).</summary>
    public required string Kernel { get; init; }

    /// <summary>Absolute path of an initramfs, or null.</summary>
    public string? Ramdisk { get; init; }

    public int Vcpus { get; init; } = 1;

    public long MemoryMiB { get; init; } = 128;

    /// <summary>0: no disk.</summary>
    public long DiskBytes { get; init; }

    public DiskFormat DiskFormat { get; init; } = DiskFormat.Raw;

    /// <summary>Absolute path of the image to create (when DiskBytes is not 0).</summary>
    public string? DiskPath { get; init; }

    /// <summary>null: no network.</summary>
    public string? Bridge { get; init; }

    public string CommandLine { get; init; } = "";

    public static string? CheckName(string name) =>
        name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? $"'{name}' must be 1-64 letters, digits, '-', '_' or '.'"
            : name.All(char.IsAsciiDigit) ? $"'{name}' must not be a number (commands take a domain id or a name)" : null;

    /// <summary>The config's command line when `new --type hvm` is given none: the UART as console (qemu-dm's, so
    /// `disagg console` works both ways), SBI earlycon for what Linux prints before its 8250 driver binds.</summary>
    public const string HvmCommandLine = "console=ttyS0 earlycon=sbi panic=-1";

    public static string? CheckType(string text, out DomainType type)
    {
        type = text == "hvm" ? DomainType.Hvm : DomainType.Pv;
        return text is "pv" or "hvm" ? null : $"'{text}' must be pv or hvm";
    }

    public static string? CheckKernel(string path) => CheckKernel(path, DomainType.Pv);

    /// <summary>A pv kernel is an ELF image; an hvm one a Linux RISC-V Image, an RV64 RISC-V ELF or a raw binary (<see cref="HvmKernelCheck"/>).</summary>
    public static string? CheckKernel(string path, DomainType type)
    {
        if (!File.Exists(path))
        {
            return $"'{path}' does not exist";
        }

        Span<byte> header = stackalloc byte[64];
        using var f = File.OpenRead(path);
        var n = f.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (type == DomainType.Hvm)
        {
            return HvmKernelCheck.Mistake(header[..n], f.Length) is { } mistake
                ? $"'{path}' {mistake} (type hvm boots a Linux RISC-V Image, an RV64 RISC-V ELF or a raw binary)"
                : null;
        }

        return n >= 4 && header[..4].SequenceEqual("\u007fELF"u8) ? null : $"'{path}' is not an ELF image";
    }

    public static string? CheckRamdisk(string path) =>
        path == "none" || File.Exists(path) ? null : $"'{path}' does not exist";

    public static string? TryVcpus(string text, out int vcpus) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out vcpus) && vcpus is >= 1 and <= DomainConfig.MaxVcpuCount
            ? null
            : $"'{text}' must be a number in 1..{DomainConfig.MaxVcpuCount}";

    /// <summary>MiB, or with a suffix k, m, g (as xl's memory sizes).</summary>
    public static string? TryMemory(string text, out long mib)
    {
        mib = 0;
        if (!TrySize(text, MiB, out var bytes) || bytes % MiB != 0 || bytes == 0)
        {
            return $"'{text}' is not a whole number of MiB (like 128, 512M or 2G)";
        }

        mib = bytes / MiB;
        return mib > 1 << 20 ? $"'{text}' is over 1 TiB" : null;
    }

    /// <summary>"none" or 0 for no disk; else MiB, or with a suffix k, m, g, t; a whole number of 512-byte sectors.</summary>
    public static string? TryDiskSize(string text, out long bytes)
    {
        if (text is "none" or "0")
        {
            bytes = 0;
            return null;
        }

        if (!TrySize(text, MiB, out bytes) || bytes == 0)
        {
            return $"'{text}' is not a size (like 512M, 4G, or none)";
        }

        return bytes % 512 != 0 ? $"'{text}' is not a whole number of 512-byte sectors"
            : bytes > MaxDiskBytes ? $"'{text}' is over 2 TiB" : null;
    }

    public static string? TryDiskFormat(string text, out DiskFormat format)
    {
        format = text == "qcow2" ? DiskFormat.Qcow2 : DiskFormat.Raw;
        return text is "raw" or "qcow2" ? null : $"'{text}' must be raw or qcow2";
    }

    /// <summary>A bridge name as a vif's bridge= takes it, or "none" for no network.</summary>
    public static string? CheckBridge(string text) =>
        text == "none" || (text.Length is > 0 and <= 15 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            ? null
            : $"'{text}' must be none or 1-15 letters, digits, '-', '_' or '.'";

    /// <summary>The config file's text, in xl.cfg syntax.</summary>
    public string ToConfigText()
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"# {Name}: written by `disagg new` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC\n");
        s.Append(CultureInfo.InvariantCulture, $"name = {Quote(Name)}\n");
        s.Append(Type == DomainType.Hvm ? "type = \"hvm\"\n" : "type = \"pv\"\n");
        s.Append(CultureInfo.InvariantCulture, $"kernel = {Quote(Kernel)}\n");
        if (Ramdisk is not null)
        {
            s.Append(CultureInfo.InvariantCulture, $"ramdisk = {Quote(Ramdisk)}\n");
        }

        if (CommandLine.Length > 0)
        {
            s.Append(CultureInfo.InvariantCulture, $"cmdline = {Quote(CommandLine)}\n");
        }

        s.Append(CultureInfo.InvariantCulture, $"memory = {MemoryMiB}\n");
        s.Append(CultureInfo.InvariantCulture, $"vcpus = {Vcpus}\n");
        if (DiskBytes > 0)
        {
            var format = DiskFormat == DiskFormat.Qcow2 ? "qcow2" : "raw";
            s.Append(CultureInfo.InvariantCulture, $"disk = [ {Quote($"format={format}, vdev=xvda, access=rw, target={DiskPath}")} ]\n");
        }

        if (Bridge is not null)
        {
            s.Append(CultureInfo.InvariantCulture, $"vif = [ {Quote($"bridge={Bridge}")} ]\n");
        }

        s.Append("on_poweroff = \"destroy\"\non_reboot = \"restart\"\non_crash = \"destroy\"\n");
        return s.ToString();
    }

    /// <summary>Creates the disk image (fails if the file exists); nothing when there is no disk.</summary>
    public void CreateDisk()
    {
        if (DiskBytes == 0 || DiskPath is null)
        {
            return;
        }

        if (DiskFormat == DiskFormat.Qcow2)
        {
            DiskImages.CreateQcow2(DiskPath, DiskBytes);
        }
        else
        {
            DiskImages.CreateRaw(DiskPath, DiskBytes);
        }
    }

    /// <summary>A number with an optional suffix b, k, m, g, t (binary units); a bare number is in <paramref name="unit"/> bytes.</summary>
    private static bool TrySize(string text, long unit, out long bytes)
    {
        bytes = 0;
        var t = text.Trim().ToLowerInvariant();
        if (t.EndsWith("ib", StringComparison.Ordinal))
        {
            t = t[..^2];
        }

        var scale = unit;
        if (t.Length > 0 && char.IsAsciiLetter(t[^1]))
        {
            scale = t[^1] switch { 'b' => 1, 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 't' => 1L << 40, _ => 0 };
            t = t[..^1];
        }

        if (scale == 0 || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > long.MaxValue / scale)
        {
            return false;
        }

        bytes = n * scale;
        return true;
    }

    /// <summary>An xl.cfg string: 'literal' when it can be, else "escaped".</summary>
    private static string Quote(string s) =>
        !s.Contains('\'', StringComparison.Ordinal) && !s.Any(char.IsControl)
            ? $"'{s}'"
            : "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
