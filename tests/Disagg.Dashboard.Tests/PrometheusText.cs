using System.Globalization;
using System.Text.RegularExpressions;

namespace Disagg.Dashboard.Tests;

/// <summary>
/// A strict reader of Prometheus' text exposition format (0.0.4), enough to hold /metrics to it: every line a
/// HELP, a TYPE, or a sample `name{label="value",...} number`; a family's HELP and TYPE come once, before its
/// samples; a name is [a-zA-Z_:][a-zA-Z0-9_:]*; label values escape only \\, \" and \n. Anything else throws
/// <see cref="FormatException"/> naming the line.
/// </summary>
internal static partial class PrometheusText
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public sealed record Family(string Name, string Type, string Help, List<Sample> Samples);

    public static IReadOnlyDictionary<string, Family> Parse(string text)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var rest = line[7..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                var name = space < 0 ? rest : rest[..space];
                var value = space < 0 ? "" : rest[(space + 1)..];
                Require(NamePattern().IsMatch(name), lineNo, line, "bad metric name");
                families.TryGetValue(name, out var family);
                if (line[2] == 'H')
                {
                    Require(family is null, lineNo, line, "HELP after the family began");
                    families[name] = new Family(name, "", value, []);
                }
                else
                {
                    Require(family is not null && family.Type.Length == 0 && family.Samples.Count == 0, lineNo, line, "TYPE twice, or after samples");
                    Require(value is "counter" or "gauge" or "untyped" or "histogram" or "summary", lineNo, line, "unknown type");
                    families[name] = family! with { Type = value };
                }

                continue;
            }

            Require(!line.StartsWith('#'), lineNo, line, "unknown comment");
            var m = SamplePattern().Match(line);
            Require(m.Success, lineNo, line, "not a sample");
            var sampleName = m.Groups["name"].Value;
            Require(families.TryGetValue(sampleName, out var owner) && owner.Type.Length > 0, lineNo, line, "sample before its TYPE");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in LabelPattern().Matches(m.Groups["labels"].Value))
            {
                Require(labels.TryAdd(l.Groups["key"].Value, Unescape(l.Groups["value"].Value)), lineNo, line, "label twice");
            }

            Require(
                double.TryParse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    || m.Groups["value"].Value is "NaN" or "+Inf" or "-Inf",
                lineNo, line, "bad value");
            owner!.Samples.Add(new Sample(sampleName, labels, number));
        }

        return families;
    }

    private static string Unescape(string value) =>
        value.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    private static void Require(bool ok, int lineNo, string line, string what)
    {
        if (!ok)
        {
            throw new FormatException($"metrics line {lineNo}: {what}: {line}");
        }
    }

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*)\})? (?<value>\S+)$""")]
    private static partial Regex SamplePattern();

    [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>([^""\\\n]|\\[\\""n])*)""")]
    private static partial Regex LabelPattern();
}
