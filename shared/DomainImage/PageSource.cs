namespace Disagg.DomainImage;

/// <summary>Fills <paramref name="page"/> with the bytes of guest frame <paramref name="frame"/>.</summary>
public delegate void PageSource(ulong frame, Span<byte> page);
