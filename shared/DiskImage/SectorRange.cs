namespace Disagg.DiskImage;

/// <summary>
/// The one bounds check every format runs before touching its file: a request from a guest
/// names sectors, and nothing past the disk's end may be read or written (issue 8, bad input).
/// </summary>
internal static class SectorRange
{
    /// <summary>Returns the byte offset of <paramref name="sector"/> after checking the range fits the disk.</summary>
    public static long Check(IDiskImage image, long sector, long byteLength)
    {
        if (byteLength % IDiskImage.SectorSize != 0)
        {
            throw OutOfRange(image.Path, $"length {byteLength} is not a whole number of {IDiskImage.SectorSize}-byte sectors");
        }

        CheckSectors(image, sector, byteLength / IDiskImage.SectorSize);
        return sector * IDiskImage.SectorSize;
    }

    public static void CheckSectors(IDiskImage image, long sector, long count)
    {
        // Written to not overflow: sector + count is never computed before both are known small.
        if (sector < 0 || count < 0 || sector > image.SectorCount || count > image.SectorCount - sector)
        {
            throw OutOfRange(image.Path, $"sectors {sector}+{count} outside the disk's {image.SectorCount} sectors");
        }
    }

    public static void CheckWritable(IDiskImage image)
    {
        if (image.ReadOnly)
        {
            throw new DiskImageException(image.Path, DiskImageError.ReadOnly, "image is open read-only");
        }
    }

    private static DiskImageException OutOfRange(string path, string reason) =>
        new(path, DiskImageError.OutOfRange, reason);
}
