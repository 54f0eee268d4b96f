namespace Disagg.Interop;

/// <summary>
/// Whole pages of memfd-backed shared memory, mapped read-write into this process. Created here
/// and handed to another process as its file descriptor (<see cref="UnixRights"/>), which maps
/// it with <see cref="Map"/>. Disposal unmaps and closes deterministically.
/// </summary>
public sealed unsafe class SharedMemorySegment : IDisposable
{
    public const int PageSize = 4096;

    private byte* _pointer;

    private SharedMemorySegment(FileDescriptor fd, byte* pointer, long length)
    {
        Fd = fd;
        _pointer = pointer;
        Length = length;
    }

    /// <summary>The memfd; pass it to another process, which maps the same pages.</summary>
    public FileDescriptor Fd { get; }

    public long Length { get; }

    public long Pages => Length / PageSize;

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(SharedMemorySegment));

    public bool IsDisposed => _pointer == null;

    public Span<byte> Span => new(Pointer, checked((int)Length));

    /// <summary>A new zeroed segment of <paramref name="pages"/> pages; <paramref name="name"/> shows in /proc/PID/maps.</summary>
    public static SharedMemorySegment Create(string name, long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        var fd = new FileDescriptor((int)InteropException.Check(Libc.MemfdCreate(name, Libc.MfdCloexec), $"memfd_create({name})"));
        try
        {
            InteropException.Check(Libc.Ftruncate(fd.Value, pages * PageSize), $"ftruncate({name}, {pages} pages)");
            return new SharedMemorySegment(fd, MapFd(fd, pages * PageSize, name), pages * PageSize);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Maps a segment another process created and sent us. Takes ownership of <paramref name="fd"/>.</summary>
    public static SharedMemorySegment Map(FileDescriptor fd, long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        try
        {
            return new SharedMemorySegment(fd, MapFd(fd, pages * PageSize, "received segment"), pages * PageSize);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps a segment read-only (a descriptor opened read-only cannot be mapped writable). Takes ownership of
    /// <paramref name="fd"/>. Writing through <see cref="Span"/> of such a segment faults the process.
    /// </summary>
    public static SharedMemorySegment MapReadOnly(FileDescriptor fd, long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        try
        {
            return new SharedMemorySegment(fd, MapFd(fd, pages * PageSize, "received read-only segment", Libc.ProtRead), pages * PageSize);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Gives pages' memory back to the host (their contents read as zero afterwards; RSS drops).</summary>
    public void Discard(long firstPage, long pages)
    {
        if (firstPage < 0 || pages < 0 || firstPage + pages > Pages)
        {
            throw new ArgumentOutOfRangeException(nameof(firstPage), $"pages {firstPage}+{pages} of {Pages}");
        }

        InteropException.Check(Libc.Madvise(Pointer + (firstPage * PageSize), (nuint)(pages * PageSize), Libc.MadvRemove), "madvise(MADV_REMOVE)");
    }

    public void Dispose()
    {
        if (_pointer != null)
        {
            Libc.Munmap(_pointer, (nuint)Length);
            _pointer = null;
        }

        Fd.Dispose();
    }

    private static byte* MapFd(FileDescriptor fd, long length, string what, int protection = Libc.ProtRead | Libc.ProtWrite)
    {
        var p = Libc.Mmap(null, (nuint)length, protection, Libc.MapShared, fd.Value, 0);
        if (p == (void*)-1)
        {
            throw new InteropException($"mmap({what}, {length} bytes)", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        return (byte*)p;
    }
}
