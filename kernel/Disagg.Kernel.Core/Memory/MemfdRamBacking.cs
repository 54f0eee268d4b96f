using Disagg.Interop;

namespace Disagg.Kernel.Core.Memory;

/// <summary>
/// Guest RAM as the kernel backs it: one memfd of maxmem size. Pages exist only once touched,
/// so a domain's RSS follows what the guest really uses; a ballooned-out page is removed from
/// the memfd (MADV_REMOVE), so the host gets it back for real.
/// </summary>
public sealed unsafe class MemfdRamBacking(string name, long pages) : IRamBacking
{
    private readonly SharedMemorySegment _segment = SharedMemorySegment.Create(name, pages);

    public long Pages => _segment.Pages;

    public byte* Page(long index) => _segment.Pointer + (index * SharedMemorySegment.PageSize);

    public void Discard(long index) => _segment.Discard(index, 1);

    public void Dispose() => _segment.Dispose();
}
