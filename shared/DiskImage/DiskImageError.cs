namespace Disagg.DiskImage;

/// <summary>Why a disk image operation failed. Append-only, explicit values (they reach logs and counters).</summary>
public enum DiskImageError
{
    /// <summary>A sector range past the end of the disk, overflowing, or not a whole number of sectors.</summary>
    OutOfRange = 1,

    /// <summary>A write or discard on an image opened read-only.</summary>
    ReadOnly = 2,

    /// <summary>Someone else holds the image open in a conflicting mode.</summary>
    Locked = 3,

    /// <summary>The image's metadata is inconsistent, truncated or garbage.</summary>
    Corrupt = 4,

    /// <summary>The image uses a feature this implementation refuses (compression, encryption, ...).</summary>
    Unsupported = 5,

    /// <summary>The host file system failed (ENOSPC, EIO, missing file, ...).</summary>
    Io = 6,

    /// <summary>Creation arguments that cannot make a valid image.</summary>
    InvalidArgument = 7,
}
