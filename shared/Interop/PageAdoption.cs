namespace Disagg.Interop;

/// <summary>
/// Moves one page of a larger mapping into a memfd of its own, at the same address: the kernel does this
/// to a guest page a service maps (a granted ring), so the service can be handed exactly that page and
/// nothing else of the guest's memory, while the guest keeps seeing it where it was.
/// </summary>
public static unsafe class PageAdoption
{
    /// <summary>
    /// Copies the page at <paramref name="page"/> into a new one-page memfd and maps the memfd over it
    /// (MAP_FIXED, same address). The caller must keep writers away from the page during the call.
    /// Returns the memfd; the mapping stays until the surrounding range is unmapped.
    /// </summary>
    public static FileDescriptor Adopt(byte* page, string name)
    {
        if (((nuint)page & (SharedMemorySegment.PageSize - 1)) != 0)
        {
            throw new ArgumentException($"{name}: 0x{(nuint)page:x} is not page-aligned");
        }

        using var copy = SharedMemorySegment.Create(name, 1);
        new ReadOnlySpan<byte>(page, SharedMemorySegment.PageSize).CopyTo(copy.Span);
        var fd = copy.Fd.Duplicate();
        var at = Libc.Mmap(page, SharedMemorySegment.PageSize, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared | Libc.MapFixed, fd.Value, 0);
        if (at == (void*)-1 || at != page)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            fd.Dispose();
            throw new InteropException($"mmap(MAP_FIXED, {name})", errno);
        }

        return fd;
    }

    /// <summary>A read-only descriptor of the same file (a mapping of it cannot be made writable).</summary>
    public static FileDescriptor OpenReadOnly(FileDescriptor fd) =>
        new((int)InteropException.Check(Libc.Open($"/proc/self/fd/{fd.Value}", Libc.ORdonly | Libc.OCloexec), "open(/proc/self/fd, O_RDONLY)"));
}
