using Disagg.Kernel.Core.Hypercalls;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Execution;

/// <summary>A vCPU's view of its guest's memory for hypercall arguments: addresses translate through its page tables, page by page.</summary>
public sealed class VcpuMemoryAccess(Hart hart) : IGuestMemoryAccess
{
    public bool TryCopyFromGuest(ulong address, Span<byte> destination)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var va = address + (ulong)done;
            if (va < address || !hart.TryTranslate(va, write: false, out var pa))
            {
                return false;
            }

            var n = Math.Min(destination.Length - done, 4096 - (int)(va & 0xFFF));
            if (!hart.TryReadPhysical(pa, destination.Slice(done, n)))
            {
                return false;
            }

            done += n;
        }

        return true;
    }

    public bool TryCopyToGuest(ulong address, ReadOnlySpan<byte> source)
    {
        var done = 0;
        while (done < source.Length)
        {
            var va = address + (ulong)done;
            if (va < address || !hart.TryTranslate(va, write: true, out var pa))
            {
                return false;
            }

            var n = Math.Min(source.Length - done, 4096 - (int)(va & 0xFFF));
            if (!hart.TryWritePhysical(pa, source.Slice(done, n)))
            {
                return false;
            }

            done += n;
        }

        return true;
    }
}
