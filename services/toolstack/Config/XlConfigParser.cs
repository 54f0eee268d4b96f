using System.Globalization;
using System.Text;

namespace Disagg.Toolstack.Config;

/// <summary>
/// Parses the xl.cfg syntax (libxlu's grammar): statements `KEY = VALUE` or `KEY += VALUE`
/// ended by a newline or ';'; VALUE is a "double-quoted" string with C escapes, a
/// 'single-quoted' literal, a number (decimal or 0x hex), or a [ list ] that may span lines
/// and end with a comma; '#' starts a comment. A later assignment replaces an earlier one;
/// `+=` appends to a list. Errors carry file, line and column.
/// </summary>
public sealed class XlConfigParser
{
    private readonly string _file;
    private readonly string _text;
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private XlConfigParser(string file, string text)
    {
        _file = file;
        _text = text;
    }

    /// <summary>The settings in file order, later duplicates merged into the first's place.</summary>
    public static IReadOnlyList<XlSetting> Parse(string file, string text)
    {
        var parser = new XlConfigParser(file, text);
        return parser.ParseFile();
    }

    public static IReadOnlyList<XlSetting> ParseFile(string path) => Parse(path, File.ReadAllText(path));

    private ConfigPosition Here => new(_file, _line, _pos - _lineStart + 1);

    private List<XlSetting> ParseFile()
    {
        var settings = new List<XlSetting>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        while (true)
        {
            SkipBlank(newlines: true, semicolons: true);
            if (_pos >= _text.Length)
            {
                return settings;
            }

            var at = Here;
            var key = ReadIdentifier();
            SkipBlank(newlines: false, semicolons: false);
            var append = false;
            if (Peek() == '+' && PeekAt(1) == '=')
            {
                append = true;
                _pos += 2;
            }
            else if (Peek() == '=')
            {
                _pos++;
            }
            else
            {
                throw Error($"expected '=' after '{key}'");
            }

            SkipBlank(newlines: false, semicolons: false);
            var value = ReadValue();
            EndStatement();

            if (index.TryGetValue(key, out var existing))
            {
                var old = settings[existing];
                if (append)
                {
                    value = XlValue.List([.. AsItems(old.Value), .. AsItems(value)], old.Value.Position);
                }

                settings[existing] = new XlSetting(key, value, at);
            }
            else
            {
                index[key] = settings.Count;
                settings.Add(new XlSetting(key, append ? XlValue.List(AsItems(value), value.Position) : value, at));
            }
        }
    }

    private static IReadOnlyList<XlValue> AsItems(XlValue v) => v.Kind == XlValueKind.List ? v.Items : [v];

    private void EndStatement()
    {
        SkipBlank(newlines: false, semicolons: false);
        var c = Peek();
        if (c is '\n' or ';' or '\0')
        {
            if (c != '\0')
            {
                Advance();
            }

            return;
        }

        throw Error($"unexpected '{c}' after value (a statement ends at a newline or ';')");
    }

    private string ReadIdentifier()
    {
        var start = _pos;
        var c = Peek();
        if (!(char.IsAsciiLetter(c) || c == '_'))
        {
            throw Error(c == '\0' ? "unexpected end of file" : $"expected a setting name, found '{c}'");
        }

        while (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '_')
        {
            _pos++;
        }

        return _text[start.._pos];
    }

    private XlValue ReadValue()
    {
        var at = Here;
        var c = Peek();
        switch (c)
        {
            case '"':
                return XlValue.String(ReadDoubleQuoted(), at);
            case '\'':
                return XlValue.String(ReadSingleQuoted(), at);
            case '[':
                return ReadList();
            case '\0':
                throw Error("expected a value, found end of file");
            default:
                if (char.IsAsciiDigit(c))
                {
                    return XlValue.Number(ReadNumber(), at);
                }

                throw Error($"expected a value (\"string\", 'string', number or [list]), found '{c}'");
        }
    }

    private XlValue ReadList()
    {
        var at = Here;
        _pos++; // '['
        var items = new List<XlValue>();
        while (true)
        {
            SkipBlank(newlines: true, semicolons: false);
            if (Peek() == ']')
            {
                _pos++;
                return XlValue.List(items, at);
            }

            items.Add(ReadValue());
            SkipBlank(newlines: true, semicolons: false);
            var c = Peek();
            if (c == ',')
            {
                _pos++;
                continue;
            }

            if (c == ']')
            {
                continue;
            }

            throw Error(c == '\0' ? $"list opened at line {at.Line} column {at.Column} is never closed" : $"expected ',' or ']' in list, found '{c}'");
        }
    }

    private string ReadNumber()
    {
        var start = _pos;
        if (Peek() == '0' && (PeekAt(1) is 'x' or 'X'))
        {
            _pos += 2;
            while (char.IsAsciiHexDigit(Peek()))
            {
                _pos++;
            }
        }
        else
        {
            while (char.IsAsciiDigit(Peek()))
            {
                _pos++;
            }
        }

        if (char.IsAsciiLetterOrDigit(Peek()) || Peek() == '.')
        {
            var bad = _text[start.._pos] + Peek();
            _pos = start;
            throw Error($"malformed number '{bad}' (quote it if it is a string)");
        }

        return _text[start.._pos];
    }

    private string ReadSingleQuoted()
    {
        var at = Here;
        _pos++;
        var start = _pos;
        while (Peek() != '\'')
        {
            if (Peek() is '\n' or '\0')
            {
                throw new ConfigException(at, "string is not closed on its line");
            }

            _pos++;
        }

        var s = _text[start.._pos];
        _pos++;
        return s;
    }

    private string ReadDoubleQuoted()
    {
        var at = Here;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            var c = Peek();
            if (c is '\n' or '\0')
            {
                throw new ConfigException(at, "string is not closed on its line");
            }

            _pos++;
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            var e = Peek();
            _pos++;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '"': sb.Append('"'); break;
                case '\'': sb.Append('\''); break;
                case 'x' when char.IsAsciiHexDigit(Peek()) && char.IsAsciiHexDigit(PeekAt(1)):
                    sb.Append((char)int.Parse(_text.AsSpan(_pos, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += 2;
                    break;
                default:
                    _pos -= 2; // point at the backslash
                    throw Error($"unknown escape '\\{e}' in string");
            }
        }
    }

    private void SkipBlank(bool newlines, bool semicolons)
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '\n' && newlines)
            {
                Advance();
            }
            else if (c == ';' && semicolons)
            {
                _pos++;
            }
            else
            {
                return;
            }
        }
    }

    private void Advance()
    {
        if (_text[_pos] == '\n')
        {
            _line++;
            _lineStart = _pos + 1;
        }

        _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private char PeekAt(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private ConfigException Error(string reason) => new(Here, reason);
}
