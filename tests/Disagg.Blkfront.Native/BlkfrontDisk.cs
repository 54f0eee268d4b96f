namespace Disagg.Blkfront.Native;

/// <summary>The disk a native frontend asks for, as the toolstack would write it: image path, format, read-only or not.</summary>
public sealed record BlkfrontDisk(string Image, string Format = "raw", bool ReadOnly = false);
