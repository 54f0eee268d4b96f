using System.Globalization;

namespace Disagg.Toolstack.Http;

/// <summary>
/// One line of a backend's status file (STATE_DIR/SERVICE/status, docs/BLKBACK.md and docs/NETBACK.md): a
/// name, then key=value fields. The numeric fields become metrics labelled with the service and the line's
/// name (a device such as vbd5.51712, or the service's own loop); the others (paths, modes) are left out.
/// The file is replaced atomically by its writer, so one read sees one version.
/// </summary>
internal sealed record BackendStatusLine(string Service, string Name, IReadOnlyList<KeyValuePair<string, double>> Numbers)
{
    public static IReadOnlyList<BackendStatusLine> ReadFile(string service, string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // no status yet (the service is starting), or none at all (not a backend)
        }

        var result = new List<BackendStatusLine>();
        foreach (var line in lines)
        {
            if (Parse(service, line) is { } parsed)
            {
                result.Add(parsed);
            }
        }

        return result;
    }

    public static BackendStatusLine? Parse(string service, string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 2 || fields[0].Contains('=', StringComparison.Ordinal))
        {
            return null;
        }

        var numbers = new List<KeyValuePair<string, double>>();
        foreach (var field in fields.AsSpan(1))
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && IsMetricName(field.AsSpan(0, eq))
                && double.TryParse(field.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                numbers.Add(new(field[..eq], value));
            }
        }

        return numbers.Count == 0 ? null : new BackendStatusLine(service, fields[0], numbers);
    }

    private static bool IsMetricName(ReadOnlySpan<char> key)
    {
        foreach (var c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return key.Length > 0 && !char.IsAsciiDigit(key[0]);
    }
}
