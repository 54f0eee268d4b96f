using Disagg.Interop;

namespace Disagg.Service;

/// <summary>Shared pages a native frontend allocated as one consecutive range (a multi-page ring); each has its frame to grant.</summary>
public sealed unsafe class SharedPageRange : IDisposable
{
    private readonly PageWindow _window;

    internal SharedPageRange(PageWindow window, ulong[] frames)
    {
        _window = window;
        Frames = frames;
    }

    /// <summary>Page i's frame, to name in a grant entry.</summary>
    public IReadOnlyList<ulong> Frames { get; }

    public int Length => _window.Length;

    public byte* Pointer => _window.Pointer;

    public void Dispose() => _window.Dispose();
}
