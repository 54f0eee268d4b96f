namespace Disagg.Toolstack.Config;

/// <summary>
/// A value in an xl.cfg file: a string, a number (kept as its source text, as libxlu does, so
/// "0x10" and "16" are both accepted wherever a number is) or a list of values.
/// </summary>
public sealed class XlValue
{
    private XlValue(XlValueKind kind, string? text, IReadOnlyList<XlValue>? items, ConfigPosition position)
    {
        Kind = kind;
        Text = text;
        Items = items ?? [];
        Position = position;
    }

    public XlValueKind Kind { get; }

    /// <summary>The string's contents or the number's digits; null for a list.</summary>
    public string? Text { get; }

    public IReadOnlyList<XlValue> Items { get; }

    public ConfigPosition Position { get; }

    public static XlValue String(string text, ConfigPosition at) => new(XlValueKind.String, text, null, at);

    public static XlValue Number(string text, ConfigPosition at) => new(XlValueKind.Number, text, null, at);

    public static XlValue List(IReadOnlyList<XlValue> items, ConfigPosition at) => new(XlValueKind.List, null, items, at);

    public override string ToString() => Kind == XlValueKind.List
        ? "[" + string.Join(", ", Items) + "]"
        : Kind == XlValueKind.String ? "\"" + Text + "\"" : Text!;
}
