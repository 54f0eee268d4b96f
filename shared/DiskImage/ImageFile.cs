using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage;

/// <summary>
/// Opening image files with blkback's sharing rule, and positional I/O that turns host
/// failures into <see cref="DiskImageException"/>.
/// </summary>
/// <remarks>
/// Sharing: a disk may be open read-write by one user, or read-only by many (issue 8).
/// .NET on Linux implements <see cref="FileShare"/> with flock(2): FileShare.None takes
/// LOCK_EX|LOCK_NB, anything else LOCK_SH|LOCK_NB (SafeFileHandle.Unix.cs), so a
/// read-write open (FileShare.None) excludes every other open of the file through this
/// code, in this process or another, and read-only opens (FileShare.Read) share. The locks
/// are advisory: qemu (which uses OFD fcntl locks) and plain tools do not see them, and
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1 turns them off; the tests pin the behaviour.
/// </remarks>
internal static class ImageFile
{
    public static SafeFileHandle Open(string path, bool readOnly)
    {
        try
        {
            return File.OpenHandle(
                path,
                FileMode.Open,
                readOnly ? FileAccess.Read : FileAccess.ReadWrite,
                readOnly ? FileShare.Read : FileShare.None);
        }
        catch (FileNotFoundException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "image file does not exist", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "permission denied", e);
        }
        catch (IOException e) when (e.HResult == SharingViolation || e.Message.Contains("being used", StringComparison.Ordinal))
        {
            var how = readOnly ? "read-only (someone has it open read-write)" : "read-write (someone else has it open)";
            throw new DiskImageException(path, DiskImageError.Locked, "cannot open " + how, e);
        }
        catch (IOException e) when (e is not DiskImageException)
        {
            throw new DiskImageException(path, DiskImageError.Io, e.Message, e);
        }
    }

    public static SafeFileHandle CreateNew(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "cannot create: " + e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "cannot create: permission denied", e);
        }
    }

    /// <summary>Reads the whole span; bytes past the end of the file read as zeros (a sparse tail).</summary>
    public static void ReadAt(SafeFileHandle file, string path, Span<byte> buffer, long offset)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                var n = RandomAccess.Read(file, buffer, offset);
                if (n == 0)
                {
                    buffer.Clear();
                    return;
                }

                buffer = buffer[n..];
                offset += n;
            }
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, $"read at {offset} failed: {e.Message}", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // EFBIG/EINVAL from an offset the file system cannot address: only a corrupt image names one.
            throw new DiskImageException(path, DiskImageError.Corrupt, $"read at {offset} is beyond what the file system can address", e);
        }
    }

    public static void WriteAt(SafeFileHandle file, string path, ReadOnlySpan<byte> buffer, long offset)
    {
        try
        {
            RandomAccess.Write(file, buffer, offset);
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, $"write at {offset} failed: {e.Message}", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new DiskImageException(path, DiskImageError.Corrupt, $"write at {offset} is beyond what the file system can address", e);
        }
    }

    public static void FlushToDisk(SafeFileHandle file, string path)
    {
        try
        {
            RandomAccess.FlushToDisk(file);
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "fdatasync failed: " + e.Message, e);
        }
    }

    public static long Length(SafeFileHandle file, string path)
    {
        try
        {
            return RandomAccess.GetLength(file);
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "cannot stat: " + e.Message, e);
        }
    }

    public static void SetLength(SafeFileHandle file, string path, long length)
    {
        try
        {
            RandomAccess.SetLength(file, length);
        }
        catch (IOException e)
        {
            throw new DiskImageException(path, DiskImageError.Io, "cannot resize: " + e.Message, e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new DiskImageException(path, DiskImageError.InvalidArgument, $"length {length} is beyond what the file system can hold", e);
        }
    }

    // ERROR_SHARING_VIOLATION as an HRESULT, what .NET reports when flock says EWOULDBLOCK.
    private const int SharingViolation = unchecked((int)0x80070020);
}
