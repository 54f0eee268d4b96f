using System.Buffers;
using Disagg.Interop;
using Microsoft.Win32.SafeHandles;

namespace Disagg.DiskImage.Raw;

/// <summary>
/// A raw disk: guest sector n is file bytes [512n, 512n+512). The file is sparse; discard
/// punches holes so the host gets the space back.
/// </summary>
public sealed class RawImage : IDiskImage
{
    private const int EOPNOTSUPP = 95;
    private const int ZeroChunk = 64 * 1024;

    private readonly SafeFileHandle _file;

    private RawImage(string path, SafeFileHandle file, long sectors, bool readOnly)
    {
        Path = path;
        _file = file;
        SectorCount = sectors;
        ReadOnly = readOnly;
    }

    public string Path { get; }

    public DiskImageFormat Format => DiskImageFormat.Raw;

    public long SectorCount { get; }

    public bool ReadOnly { get; }

    /// <summary>Opens an existing raw file; its size (rounded down to whole sectors) is the disk size.</summary>
    public static RawImage Open(string path, bool readOnly)
    {
        var file = ImageFile.Open(path, readOnly);
        try
        {
            return new RawImage(path, file, ImageFile.Length(file, path) / IDiskImage.SectorSize, readOnly);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Creates a sparse raw file of <paramref name="sizeBytes"/> (a whole number of sectors); no blocks are allocated.</summary>
    public static void Create(string path, long sizeBytes)
    {
        if (sizeBytes < 0 || sizeBytes % IDiskImage.SectorSize != 0)
        {
            throw new DiskImageException(path, DiskImageError.InvalidArgument, $"size {sizeBytes} is not a whole number of sectors");
        }

        using var file = ImageFile.CreateNew(path);
        ImageFile.SetLength(file, path, sizeBytes);
    }

    public void Read(long sector, Span<byte> buffer)
    {
        var offset = SectorRange.Check(this, sector, buffer.Length);
        ImageFile.ReadAt(_file, Path, buffer, offset);
    }

    public void Write(long sector, ReadOnlySpan<byte> buffer)
    {
        SectorRange.CheckWritable(this);
        var offset = SectorRange.Check(this, sector, buffer.Length);
        ImageFile.WriteAt(_file, Path, buffer, offset);
    }

    public void Flush()
    {
        if (!ReadOnly)
        {
            ImageFile.FlushToDisk(_file, Path);
        }
    }

    public void Discard(long sector, long count)
    {
        SectorRange.CheckWritable(this);
        SectorRange.CheckSectors(this, sector, count);
        if (count == 0)
        {
            return;
        }

        var offset = sector * IDiskImage.SectorSize;
        var length = count * IDiskImage.SectorSize;
        var errno = Fallocate.PunchHoleKeepSize(_file, offset, length);
        if (errno == EOPNOTSUPP)
        {
            // A file system without hole punching: keep discard's promise that the range reads as zeros.
            WriteZeros(offset, length);
        }
        else if (errno != 0)
        {
            throw new DiskImageException(Path, DiskImageError.Io, $"fallocate(PUNCH_HOLE) at {offset}+{length} failed: errno {errno}");
        }
    }

    public void Dispose() => _file.Dispose();

    private void WriteZeros(long offset, long length)
    {
        var zeros = ArrayPool<byte>.Shared.Rent(ZeroChunk);
        try
        {
            Array.Clear(zeros, 0, ZeroChunk);
            while (length > 0)
            {
                var n = (int)Math.Min(length, ZeroChunk);
                ImageFile.WriteAt(_file, Path, zeros.AsSpan(0, n), offset);
                offset += n;
                length -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(zeros);
        }
    }
}
