using System.Runtime.InteropServices;
using Disagg.Kernel.Core.Ipc.Grants;

namespace Disagg.Kernel.Core.Tests;

/// <summary>A few 4 KiB frames of native memory numbered from <c>first</c>, standing in for a domain's RAM in unit tests.</summary>
internal sealed unsafe class NativeFrames : IGuestFrames, IDisposable
{
    private readonly byte*[] _pages;
    private readonly ulong _first;

    public NativeFrames(ulong first, int count)
    {
        _first = first;
        _pages = new byte*[count];
        for (var i = 0; i < count; i++)
        {
            _pages[i] = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
            NativeMemory.Clear(_pages[i], 4096);
        }
    }

    public byte* TryGetFrame(ulong frame, bool write) => frame - _first < (ulong)_pages.Length ? _pages[frame - _first] : null;

    public Span<byte> Bytes(ulong frame) => new(TryGetFrame(frame, false), 4096);

    public byte* Page(ulong frame) => TryGetFrame(frame, false);

    public void Dispose()
    {
        foreach (var p in _pages)
        {
            NativeMemory.AlignedFree(p);
        }
    }
}
