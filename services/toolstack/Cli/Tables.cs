using Spectre.Console;

namespace Disagg.Toolstack.Cli;

/// <summary>Tables as xl prints them: a header row and aligned columns, no borders, wide enough not to wrap when piped.</summary>
internal static class Tables
{
    public static void Print(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlySet<int>? rightAligned = null) =>
        Console().Write(Build(headers, rows, rightAligned));

    /// <summary>The table itself (for a live display); cells are plain text, never markup, so a guest named "[x]" prints as it is.</summary>
    public static Table Build(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlySet<int>? rightAligned = null)
    {
        var table = new Table { Border = TableBorder.None, ShowHeaders = true };
        for (var i = 0; i < headers.Count; i++)
        {
            var column = new TableColumn(new Text(headers[i], new Style(decoration: Decoration.Bold))) { NoWrap = true, Padding = new Padding(0, 0, 2, 0) };
            if (rightAligned?.Contains(i) == true)
            {
                column.RightAligned();
            }

            table.AddColumn(column);
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c)).ToArray());
        }

        return table;
    }

    /// <summary>The console for tables; piped output gets a wide fixed width so columns never wrap.</summary>
    public static IAnsiConsole Console()
    {
        if (System.Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 240;
        }

        return AnsiConsole.Console;
    }
}
