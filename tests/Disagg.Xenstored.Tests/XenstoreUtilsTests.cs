using Disagg.TestSupport;

namespace Disagg.Xenstored.Tests;

/// <summary>
/// Debian's xenstore-utils (a client we did not write) against our socket via XENSTORED_PATH. The
/// expected outputs are what those tools print against Xen's own xenstored for the same requests.
/// </summary>
public sealed class XenstoreUtilsTests : IDisposable
{
    private readonly XenstoredProcess _xs = new();

    public void Dispose() => _xs.Dispose();

    [Fact]
    public void WriteReadListLsExistsRmChmodBehaveAsAgainstXen()
    {
        Assert.Equal("", Tool("xenstore-write", "/vm/1/name", "guest-one", "/vm/1/memory", "512").StdOut);
        Assert.Equal("guest-one\n512\n", Tool("xenstore-read", "/vm/1/name", "/vm/1/memory").StdOut);
        Assert.Equal("/vm/1/name: guest-one\n", Tool("xenstore-read", "-p", "/vm/1/name").StdOut);
        Assert.Equal("name\nmemory\n", Tool("xenstore-list", "/vm/1").StdOut);
        Assert.Equal("/vm/1/name\n/vm/1/memory\n", Tool("xenstore-list", "-p", "/vm/1").StdOut);
        Assert.Equal("tool = \"\"\nvm = \"\"\n 1 = \"\"\n  name = \"guest-one\"\n  memory = \"512\"\n", Tool("xenstore-ls").StdOut);
        Assert.Equal("/vm/1/name = \"guest-one\"\n/vm/1/memory = \"512\"\n", Tool("xenstore-ls", "-f", "/vm/1").StdOut);
        Assert.Equal(0, Tool("xenstore-exists", "/vm/1/name").ExitCode);
        Assert.Equal(1, Tool("xenstore-exists", "/vm/1/nothing", expectFailure: true).ExitCode);

        Assert.Equal(0, Tool("xenstore-chmod", "/vm/1/name", "r0", "b3").ExitCode);
        Assert.Equal(LsLine("name", "guest-one", "r0,b3") + LsLine("memory", "512", "n0"), Tool("xenstore-ls", "-p", "/vm/1").StdOut);
        Assert.Equal(0, Tool("xenstore-chmod", "-r", "/vm", "n0", "r5").ExitCode);
        Assert.Contains("(n0,r5)", Tool("xenstore-ls", "-p", "/vm/1").StdOut, StringComparison.Ordinal);

        Assert.Equal(0, Tool("xenstore-rm", "/vm/1/memory").ExitCode);
        Assert.Equal("name\n", Tool("xenstore-list", "/vm/1").StdOut);
        Assert.Equal(0, Tool("xenstore-rm", "-t", "/vm/1/name").ExitCode); // tidy removes the emptied parents
        Assert.Equal("tool = \"\"\n", Tool("xenstore-ls").StdOut);

        var missing = Tool("xenstore-read", "/vm/none", expectFailure: true);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("couldn't read path /vm/none", missing.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void EscapedValuesRoundTripThroughTheTools()
    {
        Tool("xenstore-write", "/esc", "a\\x01b\\\\c");
        using var c = _xs.Connect();
        Assert.Equal("a\u0001b\\c", c.Read("/esc")); // the tool unescaped it; we stored the bytes
        Assert.Equal("a\\001b\\\\c\n", Tool("xenstore-read", "/esc").StdOut); // and it escapes them again, in octal
    }

    [Fact]
    public async Task WatchPrintsThePathOfEachChange()
    {
        var watch = Task.Run(() => Tool("xenstore-watch", "-n", "3", "/wt"));
        // The first event is the registration itself; wait until the watch exists, then change things.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        using var c = _xs.Connect();
        while (!c.Call(Disagg.Abi.Io.XsMessageType.Control, "status").Text.Contains("watches 1", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "xenstore-watch never registered");
            Thread.Sleep(20);
        }

        c.Write("/wt/a", "1");
        c.Write("/wt/b/c", "2");
        var result = await watch;
        Assert.Equal("/wt\n/wt/a\n/wt/b/c\n", result.StdOut);
    }

    /// <summary>A `xenstore-ls -p` line: the tool pads with ". " to column 60 before the permissions.</summary>
    private static string LsLine(string name, string value, string perms)
    {
        var line = new System.Text.StringBuilder($"{name} = \"{value}\" ");
        for (var width = line.Length; width < 60; width++)
        {
            line.Append((width & 1) != 0 ? '.' : ' ');
        }

        return line + $"  ({perms})\n";
    }

    private ProcessResult Tool(string tool, params string[] args) => Tool(tool, args, expectFailure: false);

    private ProcessResult Tool(string tool, string a, bool expectFailure) => Tool(tool, [a], expectFailure);

    private ProcessResult Tool(string tool, string[] args, bool expectFailure)
    {
        var path = "/usr/bin/" + tool;
        Assert.True(File.Exists(path), $"{tool} missing: run `make deps` (Debian xenstore-utils)");
        Environment.SetEnvironmentVariable("XENSTORED_PATH", _xs.SocketPath);
        var r = HostProcess.Run(path, args, TimeSpan.FromSeconds(20));
        Assert.False(r.TimedOut, r.ToString());
        if (!expectFailure)
        {
            Assert.True(r.ExitCode == 0, r.ToString());
        }

        return r;
    }
}
