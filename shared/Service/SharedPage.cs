using Disagg.Interop;

namespace Disagg.Service;

/// <summary>
/// A page of a native frontend's memory that another service can map through a grant (its rings live in
/// these): frame <see cref="Frame"/> of the frontend, a file of its own in the kernel. It lives as long as
/// the channel; disposing only unmaps it here.
/// </summary>
public sealed unsafe class SharedPage : IDisposable
{
    private readonly SharedMemorySegment _page;

    internal SharedPage(SharedMemorySegment page, ulong frame)
    {
        _page = page;
        Frame = frame;
    }

    /// <summary>The frame to name in a grant entry.</summary>
    public ulong Frame { get; }

    public Span<byte> Span => _page.Span;

    public byte* Pointer => _page.Pointer;

    public void Dispose() => _page.Dispose();
}
