using K4os.Compression.LZ4;

namespace Disagg.DomainImage;

/// <summary>LZ4 block compression of guest pages (fast level: the stream is bound by copying, not by the link).</summary>
public static class PageCompression
{
    public static int MaxCompressedBytes(int plainBytes) => LZ4Codec.MaximumOutputSize(plainBytes);

    public static byte[] Compress(ReadOnlySpan<byte> pages)
    {
        var buffer = new byte[LZ4Codec.MaximumOutputSize(pages.Length)];
        var n = LZ4Codec.Encode(pages, buffer, LZ4Level.L00_FAST);
        return buffer.AsSpan(0, n).ToArray();
    }

    /// <summary>Decompresses into exactly <paramref name="destination"/>; false if the block is not that long or not LZ4.</summary>
    public static bool TryDecompress(ReadOnlySpan<byte> compressed, Span<byte> destination) =>
        LZ4Codec.Decode(compressed, destination) == destination.Length;
}
