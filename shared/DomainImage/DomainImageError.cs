namespace Disagg.DomainImage;

/// <summary>Why an image was refused. Append-only.</summary>
public enum DomainImageError
{
    /// <summary>The stream ends before the record (or the end record) is complete.</summary>
    Truncated = 1,

    /// <summary>The record's checksum does not match its bytes.</summary>
    ChecksumMismatch = 2,

    /// <summary>Not a Disagg domain image (wrong magic).</summary>
    ForeignImage = 3,

    /// <summary>A format version this reader does not know.</summary>
    UnsupportedVersion = 4,

    /// <summary>A record longer than any record of its kind can be.</summary>
    RecordTooLarge = 5,

    /// <summary>A kind this reader does not know.</summary>
    UnknownKind = 6,

    /// <summary>The record's body does not decode, or contradicts the header or the records before it.</summary>
    Malformed = 7,

    /// <summary>Records out of the required order, missing, or bytes after the end record.</summary>
    BadSequence = 8,

    /// <summary>The image is sound but this host cannot restore it: a guest wider than the host, frames outside the domain.</summary>
    DoesNotFitHost = 9,
}
