namespace Disagg.Toolstack.Daemon.Consoles;

/// <summary>
/// Splits the kernel message log into per-domain console streams. The kernel prefixes each line a
/// guest writes with "(dN) " (Xen's convention); kernel lines have no prefix and are dropped here.
/// Streaming: a line's bytes are handed on as they arrive, so a prompt without a newline shows.
/// </summary>
internal sealed class ConsoleDemux
{
    /// <summary>"(d" + up to 5 digits + ") ": anything longer at a line start is not a prefix.</summary>
    private const int MaxPrefix = 9;

    private readonly byte[] _prefix = new byte[MaxPrefix];
    private int _prefixLength;
    private bool _atLineStart = true;
    private int _owner = -1;

    public delegate void Sink(int domainId, ReadOnlySpan<byte> text);

    public void Feed(ReadOnlySpan<byte> bytes, Sink sink)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (_atLineStart)
            {
                var b = bytes[i++];
                _prefix[_prefixLength++] = b;
                var state = Classify(_prefix.AsSpan(0, _prefixLength), out var domain);
                if (state == PrefixState.Incomplete)
                {
                    continue;
                }

                _atLineStart = false;
                _owner = state == PrefixState.Guest ? domain : -1;
                if (state == PrefixState.NotAPrefix)
                {
                    Emit(_prefix.AsSpan(0, _prefixLength), sink);
                }

                _prefixLength = 0;
                continue;
            }

            var newline = bytes[i..].IndexOf((byte)'\n');
            var end = newline < 0 ? bytes.Length : i + newline + 1;
            Emit(bytes[i..end], sink);
            i = end;
        }
    }

    private static PrefixState Classify(ReadOnlySpan<byte> p, out int domain)
    {
        domain = 0;
        ReadOnlySpan<byte> open = "(d"u8;
        for (var k = 0; k < p.Length; k++)
        {
            if (k < 2)
            {
                if (p[k] != open[k])
                {
                    return PrefixState.NotAPrefix;
                }

                continue;
            }

            if (p[k] is >= (byte)'0' and <= (byte)'9' && k < MaxPrefix - 2)
            {
                domain = (domain * 10) + (p[k] - '0');
                continue;
            }

            if (p[k] == ')' && k > 2)
            {
                if (k + 1 < p.Length)
                {
                    return p[k + 1] == ' ' ? PrefixState.Guest : PrefixState.NotAPrefix;
                }

                return PrefixState.Incomplete;
            }

            return PrefixState.NotAPrefix;
        }

        return PrefixState.Incomplete;
    }

    private void Emit(ReadOnlySpan<byte> text, Sink sink)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (_owner >= 0)
        {
            sink(_owner, text);
        }

        if (text[^1] == '\n')
        {
            _atLineStart = true;
        }
    }

    private enum PrefixState
    {
        Incomplete,
        Guest,
        NotAPrefix,
    }
}
