namespace Disagg.DiskImage;

/// <summary>
/// A virtual disk's backing store, addressed in 512-byte sectors (blkif's unit,
/// xen/include/public/io/blkif.h: sector numbers are always in 512-byte units).
/// </summary>
/// <remarks>
/// Synchronous and thread-safe by design: blkback serves several requests in flight per
/// device and completes them out of order by running each on its own worker; every
/// implementation uses positional I/O (pread/pwrite through <see cref="RandomAccess"/>),
/// so concurrent calls never share a file position. A call returns only once the data
/// reached the file (page cache); <see cref="Flush"/> makes it durable.
/// Errors are <see cref="DiskImageException"/>; a rejected call has changed nothing.
/// </remarks>
public interface IDiskImage : IDisposable
{
    /// <summary>Bytes per sector, fixed by blkif.</summary>
    const int SectorSize = 512;

    /// <summary>The image file (for errors and logs).</summary>
    string Path { get; }

    DiskImageFormat Format { get; }

    /// <summary>Virtual disk size in 512-byte sectors.</summary>
    long SectorCount { get; }

    bool ReadOnly { get; }

    /// <summary>Reads <c>buffer.Length / 512</c> sectors starting at <paramref name="sector"/>.</summary>
    void Read(long sector, Span<byte> buffer);

    /// <summary>Writes <c>buffer.Length / 512</c> sectors starting at <paramref name="sector"/>.</summary>
    void Write(long sector, ReadOnlySpan<byte> buffer);

    /// <summary>fdatasync: every write that returned before this call is durable when it returns.</summary>
    void Flush();

    /// <summary>Releases the sectors' storage; they read as zeros afterwards.</summary>
    void Discard(long sector, long count);
}
