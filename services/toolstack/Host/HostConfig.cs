using System.Globalization;
using System.Text.RegularExpressions;

namespace Disagg.Toolstack.Host;

/// <summary>
/// What `disagg host up` needs: the host config file (host.conf in the state dir, or --config)
/// overlaid by flags. The file is `key = value` lines, `#` comments, optional quotes:
/// memory = 1G, pcpus = 2, shutdown_timeout = 10, services = auto | none | xenstored,...,
/// service.NAME = PROGRAM ARGS... (an extra supervised service, whitespace-separated).
/// </summary>
internal sealed partial record HostConfig
{
    public string Memory { get; init; } = "1G";

    public int? Pcpus { get; init; }

    public int ShutdownTimeoutSeconds { get; init; } = 10;

    /// <summary>Built-in services to start; null means every one whose program exists ("auto").</summary>
    public IReadOnlyList<string>? BuiltinServices { get; init; }

    public IReadOnlyList<ExtraService> ExtraServices { get; init; } = [];

    public static HostConfig Read(string path)
    {
        var config = new HostConfig();
        var extras = new List<ExtraService>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            var line = raw;
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new HostConfigException($"{path}:{lineNo}: expected 'key = value'");
            }

            var key = line[..eq].Trim();
            var value = Unquote(line[(eq + 1)..].Trim());
            string Where() => $"{path}:{lineNo}";
            config = key switch
            {
                "memory" => config with { Memory = CheckSize(value, Where()) },
                "pcpus" => config with { Pcpus = CheckInt(value, 1, 64, key, Where()) },
                "shutdown_timeout" => config with { ShutdownTimeoutSeconds = CheckInt(value, 0, 3600, key, Where()) },
                "services" => config with { BuiltinServices = ParseServiceList(value) },
                _ when key.StartsWith("service.", StringComparison.Ordinal) => AddExtra(config, extras, key["service.".Length..], value, Where()),
                _ => throw new HostConfigException($"{Where()}: unknown key '{key}' (memory, pcpus, shutdown_timeout, services, service.NAME)"),
            };
        }

        return config with { ExtraServices = extras };
    }

    public static string CheckSize(string value, string where) =>
        SizePattern().IsMatch(value) ? value : throw new HostConfigException($"{where}: memory '{value}' is not a size (like 512M or 2G)");

    public static IReadOnlyList<string>? ParseServiceList(string value) => value switch
    {
        "auto" => null,
        "none" or "" => [],
        _ => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
    };

    private static HostConfig AddExtra(HostConfig config, List<ExtraService> extras, string name, string value, string where)
    {
        var words = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!NamePattern().IsMatch(name) || words.Length == 0)
        {
            throw new HostConfigException($"{where}: service.{name} needs a name of letters, digits and '-' and a program");
        }

        extras.Add(new ExtraService(name, words[0], words[1..]));
        return config;
    }

    private static int CheckInt(string value, int min, int max, string key, string where) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new HostConfigException($"{where}: {key} '{value}' is not a number in {min}..{max}");

    private static string Unquote(string v) =>
        v.Length >= 2 && (v[0] == '"' || v[0] == '\'') && v[^1] == v[0] ? v[1..^1] : v;

    [GeneratedRegex("^[0-9]+[KkMmGg]?$")]
    private static partial Regex SizePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex NamePattern();
}
