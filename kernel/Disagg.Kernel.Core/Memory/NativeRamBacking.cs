using System.Runtime.InteropServices;

namespace Disagg.Kernel.Core.Memory;

/// <summary>Plain native memory as RAM backing (tests; no sharing with other processes, Discard only zeroes).</summary>
public sealed unsafe class NativeRamBacking : IRamBacking
{
    private byte* _base;

    public NativeRamBacking(long pages)
    {
        Pages = pages;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)(pages * 4096), 4096);
        NativeMemory.Clear(_base, (nuint)(pages * 4096));
    }

    public long Pages { get; }

    public byte* Page(long index) => _base + (index * 4096);

    public void Discard(long index) => NativeMemory.Clear(Page(index), 4096);

    public void Dispose()
    {
        if (_base != null)
        {
            NativeMemory.AlignedFree(_base);
            _base = null;
        }
    }
}
