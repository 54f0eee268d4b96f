namespace Disagg.Interop;

/// <summary>
/// Consecutive virtual pages, each mapped from its own one-page memfd: a multi-page ring whose pages are
/// separate grants (each its own file) is one contiguous range here. The range is reserved inaccessible first,
/// then each page is placed over its slot (MAP_FIXED inside our own reservation, never over anything else).
/// </summary>
public sealed unsafe class PageWindow : IDisposable
{
    private byte* _base;

    private PageWindow(byte* pointer, int pages)
    {
        _base = pointer;
        Pages = pages;
    }

    public int Pages { get; }

    public byte* Pointer => _base != null ? _base : throw new ObjectDisposedException(nameof(PageWindow));

    public int Length => Pages * SharedMemorySegment.PageSize;

    /// <summary>Reserves <paramref name="pages"/> pages that fault until <see cref="Place"/> fills them.</summary>
    public static PageWindow Reserve(int pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        var p = Libc.Mmap(null, (nuint)pages * SharedMemorySegment.PageSize, Libc.ProtNone, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
        if (p == (void*)-1)
        {
            throw new InteropException($"mmap(reserve {pages} pages)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        return new PageWindow((byte*)p, pages);
    }

    /// <summary>Maps the first page of <paramref name="fd"/> at page <paramref name="index"/> (the descriptor may be closed afterwards).</summary>
    public void Place(int index, FileDescriptor fd, bool readOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Pages);
        var at = Pointer + ((long)index * SharedMemorySegment.PageSize);
        var prot = readOnly ? Libc.ProtRead : Libc.ProtRead | Libc.ProtWrite;
        var p = Libc.Mmap(at, SharedMemorySegment.PageSize, prot, Libc.MapShared | Libc.MapFixed, fd.Value, 0);
        if (p == (void*)-1)
        {
            throw new InteropException($"mmap(page {index} of a {Pages}-page window)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
    }

    public void Dispose()
    {
        if (_base != null)
        {
            Libc.Munmap(_base, (nuint)Length);
            _base = null;
        }
    }
}
