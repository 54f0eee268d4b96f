using Disagg.Toolstack.Config;

namespace Disagg.Toolstack.Tests;

public class XlConfigParserTests
{
    private static IReadOnlyList<XlSetting> Parse(string text) => XlConfigParser.Parse("t.cfg", text);

    [Fact]
    public void ReadsStringsNumbersListsAndComments()
    {
        var s = Parse("""
            # comment
            name = "a\"b" ; memory=0x40
            kernel='/k.elf' # trailing comment
            disk = [ 'x',
                     "y", ]
            empty = []
            """);
        Assert.Equal(["name", "memory", "kernel", "disk", "empty"], s.Select(x => x.Key));
        Assert.Equal("a\"b", s[0].Value.Text);
        Assert.Equal(XlValueKind.Number, s[1].Value.Kind);
        Assert.Equal("0x40", s[1].Value.Text);
        Assert.Equal("/k.elf", s[2].Value.Text);
        Assert.Equal(["x", "y"], s[3].Value.Items.Select(i => i.Text));
        Assert.Empty(s[4].Value.Items);
    }

    [Fact]
    public void LaterAssignmentReplacesAndPlusEqualsAppends()
    {
        var s = Parse("memory = 1\nmemory = 2\nvif = ['a']\nvif += ['b']\nvif += 'c'\n");
        Assert.Equal(2, s.Count);
        Assert.Equal("2", s[0].Value.Text);
        Assert.Equal(["a", "b", "c"], s[1].Value.Items.Select(i => i.Text));
    }

    [Theory]
    [InlineData("name \"x\"\n", 1, 6, "expected '='")]
    [InlineData("name = \"x\n", 1, 8, "not closed")]
    [InlineData("a = 1\nb = [1,\n2\n", 4, 1, "never closed")]
    [InlineData("a = 1\n  b = 12ab\n", 2, 7, "malformed number")]
    [InlineData("a = 1 2\n", 1, 7, "after value")]
    [InlineData("= 3\n", 1, 1, "expected a setting name")]
    [InlineData("a = \"\\q\"\n", 1, 6, "unknown escape")]
    [InlineData("a = [1 2]\n", 1, 8, "expected ',' or ']'")]
    public void MalformedFilesNameLineAndColumn(string text, int line, int column, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => Parse(text));
        Assert.Equal(new ConfigPosition("t.cfg", line, column), e.Position);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"t.cfg:{line}:{column}: ", e.Message, StringComparison.Ordinal);
    }
}
