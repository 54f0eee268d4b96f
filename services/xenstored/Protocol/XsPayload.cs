namespace Disagg.Xenstored.Protocol;

/// <summary>
/// Splitting a request payload into its NUL-terminated strings, Xen's way: a payload that should be
/// N strings must be exactly N strings, each with its NUL (a missing NUL is EINVAL, never a read past the end).
/// </summary>
public static class XsPayload
{
    /// <summary>The payload is exactly one NUL-terminated string.</summary>
    public static bool TryOne(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> arg)
    {
        arg = default;
        if (payload.IsEmpty || payload.IndexOf((byte)0) != payload.Length - 1)
        {
            return false;
        }

        arg = payload[..^1];
        return true;
    }

    /// <summary>The payload is exactly <paramref name="args"/>.Length NUL-terminated strings.</summary>
    public static bool TryExactly(ReadOnlySpan<byte> payload, Span<Range> args)
    {
        if (payload.IsEmpty || payload[^1] != 0)
        {
            return false;
        }

        var start = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var nul = payload[start..].IndexOf((byte)0);
            if (nul < 0)
            {
                return false;
            }

            args[i] = new Range(start, start + nul);
            start += nul + 1;
        }

        return start == payload.Length;
    }

    /// <summary>The first string and the raw bytes after its NUL (XS_WRITE's path and value).</summary>
    public static bool TrySplitFirst(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> rest)
    {
        var nul = payload.IndexOf((byte)0);
        if (nul < 0)
        {
            first = rest = default;
            return false;
        }

        first = payload[..nul];
        rest = payload[(nul + 1)..];
        return true;
    }

    /// <summary>Strict unsigned decimal (no sign, no spaces, no overflow), as domain ids and ports are sent.</summary>
    public static bool TryDecimal(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 19)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c < (byte)'0' || c > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (ulong)(c - '0');
        }

        return true;
    }
}
