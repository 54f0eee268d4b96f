namespace Disagg.DomainImage;

/// <summary>
/// An image was refused: which record (its kind as far as it could be read, and its index in the stream)
/// and why. Thrown while reading, before the caller has created anything from the image.
/// </summary>
public sealed class DomainImageException : Exception
{
    public DomainImageException(DomainImageError error, ImageRecordKind? kind, int index, string detail)
        : base($"domain image refused at record {index}{(kind is { } k ? $" ({k})" : "")}: {error}: {detail}")
    {
        Error = error;
        Kind = kind;
        Index = index;
    }

    public DomainImageError Error { get; }

    /// <summary>The record's kind; null when the kind itself could not be read or is not one we know.</summary>
    public ImageRecordKind? Kind { get; }

    public int Index { get; }
}
