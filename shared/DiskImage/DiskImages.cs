using Disagg.DiskImage.Qcow2;
using Disagg.DiskImage.Raw;

namespace Disagg.DiskImage;

/// <summary>
/// Creating and opening disk images by format: what `disagg new` and blkback's device setup call.
/// </summary>
/// <remarks>
/// The format always comes from the caller (xl's disk spec <c>format=</c>), never from the
/// file's contents: probing would let a guest that writes a qcow2 header into its raw disk
/// make the host open it as qcow2 with a backing file of its choosing.
/// </remarks>
public static class DiskImages
{
    /// <summary>The default qcow2 cluster size, as qemu-img's: 64 KiB.</summary>
    public const int DefaultQcow2ClusterBits = 16;

    public static IDiskImage Open(string path, DiskImageFormat format, bool readOnly) => format switch
    {
        DiskImageFormat.Raw => RawImage.Open(path, readOnly),
        DiskImageFormat.Qcow2 => Qcow2Image.Open(path, readOnly),
        _ => throw new DiskImageException(path, DiskImageError.InvalidArgument, $"unknown format {format}"),
    };

    /// <summary>A sparse raw file of <paramref name="sizeBytes"/> (a multiple of 512); fails if the file exists.</summary>
    public static void CreateRaw(string path, long sizeBytes) => RawImage.Create(path, sizeBytes);

    /// <summary>
    /// An empty qcow2 v3 image; fails if the file exists. With a backing file, the size may be
    /// null (the backing file's size is used); a relative backing name is relative to the new
    /// image's directory and stored as given, as qemu-img does.
    /// </summary>
    public static void CreateQcow2(
        string path,
        long? sizeBytes,
        string? backingFile = null,
        DiskImageFormat? backingFormat = null,
        int clusterBits = DefaultQcow2ClusterBits) =>
        Qcow2Image.Create(path, sizeBytes, backingFile, backingFormat, clusterBits);
}
