namespace Disagg.DiskImage;

/// <summary>A failed disk image operation: which image, and why (STYLE.md: a typed error carrying the device and reason).</summary>
public sealed class DiskImageException : IOException
{
    public DiskImageException(string path, DiskImageError error, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        ImagePath = path;
        Error = error;
        Reason = reason;
    }

    public DiskImageException()
        : this(string.Empty, DiskImageError.Io, "disk image error")
    {
    }

    public DiskImageException(string message)
        : this(string.Empty, DiskImageError.Io, message)
    {
    }

    public DiskImageException(string message, Exception innerException)
        : this(string.Empty, DiskImageError.Io, message, innerException)
    {
    }

    public string ImagePath { get; }

    public DiskImageError Error { get; }

    public string Reason { get; }
}
