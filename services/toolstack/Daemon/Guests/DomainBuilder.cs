using Disagg.Control.Messages;
using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>Turns a domain config into what the kernel is asked: CreateDomain, then LoadKernel with the image bytes.</summary>
internal static class DomainBuilder
{
    /// <summary>Reads the kernel (and ramdisk) named by the config; relative paths are relative to the config file's folder.</summary>
    public static (CreateDomain Create, byte[] Kernel, byte[]? Ramdisk) Build(DomainConfig config, string configPath, int hostPcpus, int xenstoreDomain)
    {
        var dir = Path.GetDirectoryName(configPath) ?? ".";
        var hvm = config.Type == DomainType.Hvm;
        var kernel = ReadImage(config.Name, "kernel", Path.Combine(dir, config.Kernel!));
        var ramdisk = config.Ramdisk is null ? null : ReadImage(config.Name, "ramdisk", Path.Combine(dir, config.Ramdisk));
        GuestIsa isa;
        if (hvm)
        {
            // An unmodified OS boots as on QEMU's virt board: a Linux Image, an ELF or a raw binary. The kernel
            // reads and places it (and says what is wrong with a broken Image or ELF); this names the usual mistakes early.
            if (HvmKernelCheck.Mistake(kernel.AsSpan(0, Math.Min(kernel.Length, HvmKernelCheck.HeaderBytes)), kernel.Length) is { } mistake)
            {
                throw new DomainOperationException(config.Name, $"kernel {config.Kernel} {mistake}, not a kernel type 'hvm' boots (a Linux RISC-V Image, an RV64 RISC-V ELF or a raw binary)");
            }

            isa = GuestIsa.Rv64;
        }
        else if (kernel.Length < 5 || kernel[0] != 0x7F || kernel[1] != (byte)'E' || kernel[2] != (byte)'L' || kernel[3] != (byte)'F' || kernel[4] is not (1 or 2))
        {
            throw new DomainOperationException(config.Name, $"kernel {config.Kernel} is not an ELF image");
        }
        else
        {
            isa = kernel[4] == 2 ? GuestIsa.Rv64 : GuestIsa.Rv32;
        }

        var masks = new List<ulong>();
        foreach (var set in config.Cpus)
        {
            ulong mask = 0;
            foreach (var cpu in set.Resolve(hostPcpus))
            {
                mask |= 1UL << cpu;
            }

            if (mask == 0)
            {
                throw new DomainOperationException(config.Name, $"cpus '{set}' names no pCPU of this host's {hostPcpus}");
            }

            masks.Add(mask);
        }

        var create = new CreateDomain(
            config.Name,
            isa,
            config.Vcpus,
            config.MaxVcpus,
            config.MemoryMiB * 1024L,
            config.MaxMemMiB * 1024L,
            config.Weight,
            config.Cap,
            masks,
            ConsoleBackendDomain: 0,
            XenstoreDomain: xenstoreDomain,
            Hvm: hvm);
        return (create, kernel, ramdisk);
    }

    private static byte[] ReadImage(string domain, string what, string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DomainOperationException(domain, $"cannot read {what} {path}: {e.Message}");
        }
    }
}
