using Disagg.DiskImage.Raw;

namespace Disagg.DiskImage.Qcow2;

/// <summary>
/// Opens an image's backing file (qcow2.txt, "Header": backing_file_offset/size; a relative
/// name is relative to the image's own directory, as qemu resolves it). Backing files are
/// always opened read-only, so one base can serve many overlays.
/// </summary>
internal static class BackingChain
{
    /// <summary>Bounds the chain so an image naming itself (or a cycle) is an error, not a stack overflow.</summary>
    public const int MaxDepth = 16;

    public static IDiskImage Open(string imagePath, string backingName, string? backingFormat, int depth)
    {
        if (depth >= MaxDepth)
        {
            throw new DiskImageException(imagePath, DiskImageError.Corrupt, $"backing chain deeper than {MaxDepth} (a loop?)");
        }

        var resolved = Resolve(imagePath, backingName);
        var format = backingFormat ?? Probe(imagePath, resolved);
        return format switch
        {
            "qcow2" => Qcow2Image.Open(resolved, readOnly: true, depth + 1),
            "raw" => RawImage.Open(resolved, readOnly: true),
            _ => throw new DiskImageException(imagePath, DiskImageError.Unsupported, $"backing file format '{format}' is not supported"),
        };
    }

    public static string Resolve(string imagePath, string backingName)
    {
        if (Path.IsPathRooted(backingName))
        {
            return backingName;
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(imagePath)) ?? ".";
        return Path.GetFullPath(Path.Combine(dir, backingName));
    }

    /// <summary>
    /// Only for images without a backing format extension (old qemu-img without -F): qcow2 if
    /// it has the magic, else raw — qemu's own fallback for backing files.
    /// </summary>
    public static string Probe(string imagePath, string resolved)
    {
        try
        {
            Span<byte> magic = stackalloc byte[4];
            using var f = File.OpenHandle(resolved, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var n = RandomAccess.Read(f, magic, 0);
            return n == 4 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(magic) == Qcow2Header.QcowMagic ? "qcow2" : "raw";
        }
        catch (IOException e)
        {
            throw new DiskImageException(imagePath, DiskImageError.Io, $"backing file {resolved}: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DiskImageException(imagePath, DiskImageError.Io, $"backing file {resolved}: permission denied", e);
        }
    }
}
