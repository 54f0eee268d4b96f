using System.Globalization;

namespace Disagg.Toolstack.Config;

/// <summary>
/// xl's vif `rate=` (xl-network-configuration(5)): RATE/s[@INTERVAL], RATE a number with an
/// optional K/M/G prefix and a unit of B (bytes) or b (bits), INTERVAL in s, ms or us (default
/// 50ms). Netback enforces it as a token bucket refilled every Interval with BytesPerInterval.
/// </summary>
public sealed record VifRate(ulong BytesPerSecond, TimeSpan Interval)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    public ulong BytesPerInterval => (ulong)(BytesPerSecond * Interval.TotalSeconds);

    public static bool TryParse(string text, out VifRate? rate, out string? error)
    {
        rate = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var ratePart = at < 0 ? text : text[..at];
        var interval = DefaultInterval;
        if (at >= 0 && !TryParseInterval(text[(at + 1)..], out interval))
        {
            error = $"rate interval '{text[(at + 1)..]}' must be a number with s, ms or us";
            return false;
        }

        if (!ratePart.EndsWith("/s", StringComparison.Ordinal))
        {
            error = $"rate '{ratePart}' must end in /s (for example 10Mb/s or 1MB/s)";
            return false;
        }

        var body = ratePart[..^2];
        if (body.Length < 2)
        {
            error = $"rate '{ratePart}' has no number";
            return false;
        }

        var unit = body[^1];
        if (unit is not ('B' or 'b'))
        {
            error = $"rate '{ratePart}' must be in B/s (bytes) or b/s (bits)";
            return false;
        }

        body = body[..^1];
        ulong multiplier = 1;
        if (body.Length > 0 && body[^1] is 'K' or 'M' or 'G' or 'k')
        {
            multiplier = body[^1] switch { 'K' or 'k' => 1_000UL, 'M' => 1_000_000UL, _ => 1_000_000_000UL };
            body = body[..^1];
        }

        if (!ulong.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n == 0)
        {
            error = $"rate '{ratePart}' has no positive whole number";
            return false;
        }

        var bytes = n * multiplier;
        if (unit == 'b')
        {
            bytes /= 8;
        }

        rate = new VifRate(bytes, interval);
        error = null;
        return true;
    }

    private static bool TryParseInterval(string s, out TimeSpan interval)
    {
        interval = default;
        var (digits, scale) = s.EndsWith("ms", StringComparison.Ordinal) ? (s[..^2], 1e-3)
            : s.EndsWith("us", StringComparison.Ordinal) ? (s[..^2], 1e-6)
            : s.EndsWith('s') ? (s[..^1], 1.0) : (s, 1e-6); // libxlu takes a bare number as microseconds
        if (!ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n == 0)
        {
            return false;
        }

        interval = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    public override string ToString() => $"{BytesPerSecond}B/s@{Interval.TotalMilliseconds}ms";
}
