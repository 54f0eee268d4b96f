using Disagg.Abi.Hypercalls;
using Disagg.Kernel.Core.Console;

namespace Disagg.Kernel.Core.Hypercalls;

/// <summary>
/// console_io(cmd, count, buffer): CONSOLEIO_write appends guest text to the kernel message log
/// (read by the control domain as `disagg dmesg`). CONSOLEIO_read is the control domain's
/// console input in Xen; no guest reads the hypervisor console here, so it returns 0 bytes.
/// </summary>
public static class ConsoleIoHypercall
{
    /// <summary>The most one call may write; longer writes are cut (Xen also bounds each call).</summary>
    public const int MaxWrite = 4096;

    public static long Handle(KernelMessageLog log, int domainId, IGuestMemoryAccess memory, uint cmd, ulong count, ulong buffer)
    {
        switch ((ConsoleIoOp)cmd)
        {
            case ConsoleIoOp.Write:
                {
                    var n = (int)Math.Min(count, MaxWrite);
                    Span<byte> text = stackalloc byte[MaxWrite];
                    if (!memory.TryCopyFromGuest(buffer, text[..n]))
                    {
                        return Errno.Efault;
                    }

                    log.WriteGuest(domainId, text[..n]);
                    return 0;
                }

            case ConsoleIoOp.Read:
                return 0;
            default:
                return Errno.Enosys;
        }
    }
}
