using System.Text.Json;

namespace Disagg.Toolstack.Fault.Report;

/// <summary>A report's folder: report.json (the record), report.html (the page rendered from it).</summary>
public static class ReportStore
{
    public const string JsonName = "report.json";
    public const string HtmlName = "report.html";

    public static void Write(string dir, FaultReport report)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, JsonName), ToJson(report));
        File.WriteAllText(Path.Combine(dir, HtmlName), ReportHtml.Render(report));
    }

    public static string ToJson(FaultReport report) => JsonSerializer.Serialize(report, FaultJsonContext.Default.FaultReport);

    /// <summary>Reads DIR/report.json; <see cref="FormatException"/> when it is missing or not a report of a version we read.</summary>
    public static FaultReport Read(string dir)
    {
        var path = Path.Combine(dir, JsonName);
        if (!File.Exists(path))
        {
            throw new FormatException($"{path}: no such file (a report folder holds {JsonName})");
        }

        FaultReport? report;
        try
        {
            report = JsonSerializer.Deserialize(File.ReadAllText(path), FaultJsonContext.Default.FaultReport);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not a fault report: {e.Message}");
        }

        return report is { Version: FaultReport.CurrentVersion }
            ? report
            : throw new FormatException($"{path}: report version {report?.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}, this disagg reads {FaultReport.CurrentVersion}");
    }
}
