using System.Text;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// xen_version(cmd, arg): which Xen interface this kernel speaks. Disagg reports Xen 4.17's
/// interface (the one ../spec digests), with "-disagg" as extraversion.
/// </summary>
public static class XenVersionHypercall
{
    public const int Major = 4;
    public const int Minor = 17;
    public const string Extraversion = "-disagg";

    public static long Handle(IGuestMemoryAccess memory, uint cmd, ulong arg, bool rv64)
    {
        switch (cmd)
        {
            case 0: // XENVER_version
                return (Major << 16) | Minor;
            case 1: // XENVER_extraversion: char[16]
                return WriteString(memory, arg, Extraversion, 16);
            case 2: // XENVER_compile_info: compiler[64], compile_by[16], compile_domain[32], compile_date[32]
                {
                    Span<byte> info = stackalloc byte[144];
                    info.Clear();
                    Encoding.ASCII.GetBytes("dotnet", info);
                    Encoding.ASCII.GetBytes("disagg", info[64..]);
                    return memory.TryCopyToGuest(arg, info) ? 0 : Errno.Efault;
                }

            case 3: // XENVER_capabilities: char[1024]
                return WriteString(memory, arg, rv64 ? "xen-4.17-riscv64 xen-4.17-riscv32" : "xen-4.17-riscv32", 1024);
            case 4: // XENVER_changeset: char[64]
                return WriteString(memory, arg, "disagg", 64);
            case 5: // XENVER_platform_parameters: { xen_ulong_t virt_start }
                return memory.TryWrite(arg, 0UL) ? 0 : Errno.Efault;
            case 6: // XENVER_get_features: { u32 submap_idx; u32 submap } — no optional features yet
                return memory.TryRead(arg, out uint index) && memory.TryWrite(arg + 4, 0u) ? (index < 32 ? 0 : Errno.Einval) : Errno.Efault;
            case 7: // XENVER_pagesize
                return 4096;
            case 8: // XENVER_guest_handle: xen_domain_handle_t (16 bytes)
                {
                    Span<byte> handle = stackalloc byte[16];
                    handle.Clear();
                    return memory.TryCopyToGuest(arg, handle) ? 0 : Errno.Efault;
                }

            default:
                return Errno.Enosys;
        }
    }

    private static long WriteString(IGuestMemoryAccess memory, ulong arg, string value, int size)
    {
        Span<byte> buffer = stackalloc byte[size];
        buffer.Clear();
        Encoding.ASCII.GetBytes(value.AsSpan(0, Math.Min(value.Length, size - 1)), buffer);
        return memory.TryCopyToGuest(arg, buffer) ? 0 : Errno.Efault;
    }
}
