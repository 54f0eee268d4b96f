using System.Globalization;

namespace Disagg.Bench;

/// <summary>
/// The one line every benchmark prints: <c>bench: NAME/FIGURE VALUE UNIT[ ratio R vs FLOOR]</c>, invariant
/// culture, so `make bench` output can be grepped and compared across runs and machines.
/// </summary>
/// <param name="bench">The benchmark's name, the part before the slash.</param>
/// <param name="valueFormat">How values print (a benchmark whose figures are small keeps more digits).</param>
/// <param name="ratioFormat">How ratios print.</param>
public sealed class BenchReport(string bench, string valueFormat = "0.##", string ratioFormat = "0.##")
{
    /// <summary>The line for <paramref name="figure"/>; the ratio part only when <paramref name="ratio"/> is given.</summary>
    public string Line(string figure, double value, string unit, double? ratio = null, string? versus = null, string? note = null)
    {
        var v = value.ToString(valueFormat, CultureInfo.InvariantCulture);
        var r = ratio is { } x ? $" ratio {x.ToString(ratioFormat, CultureInfo.InvariantCulture)} vs {versus}" : "";
        var n = note is null ? "" : $" ({note})";
        return $"bench: {bench}/{figure} {v} {unit}{r}{n}";
    }

    /// <summary>Prints <see cref="Line"/> to standard output.</summary>
    public void Figure(string figure, double value, string unit, double? ratio = null, string? versus = null, string? note = null) =>
        Console.WriteLine(Line(figure, value, unit, ratio, versus, note));
}
