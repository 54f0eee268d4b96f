using System.Globalization;
using System.Text.RegularExpressions;
using Disagg.TestSupport;

namespace Disagg.Xenstored.Tests;

/// <summary>
/// Debian's libxenstore, the C library Xen's tools and most clients use, against the real disagg-xenstored:
/// LibXenstore/xs-conformance.c, one case per request family (its expectations are Xen's C xenstored's).
/// </summary>
public sealed partial class LibXenstoreTests : IClassFixture<LibXenstoreTests.Server>
{
    private readonly Server _server;

    public LibXenstoreTests(Server server) => _server = server;

    [Theory]
    [InlineData("nodes")]
    [InlineData("long-directory")]
    [InlineData("permissions")]
    [InlineData("watches")]
    [InlineData("transaction-isolation")]
    [InlineData("transaction-conflict")]
    [InlineData("domains")]
    [InlineData("control")]
    public void LibXenstoreSeesXensSemantics(string testCase)
    {
        var r = Client(_server.Xenstored.SocketPath, testCase);
        Assert.True(r.ExitCode == 0, r.ToString());
    }

    [Fact]
    public void TransactionsThatChangeNothingCommitWithoutTouchingTheDisk()
    {
        using var xs = new XenstoredProcess();
        var r = Client(xs.SocketPath, "empty-transactions"); // one write, then 100 transactions changing nothing
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0, xs.Terminate());
        var deadline = Environment.TickCount64 + 5000; // stderr is read asynchronously: its last line may lag the exit
        Match stopping;
        while (!(stopping = StoppingLine().Match(xs.StdErr)).Success && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(10);
        }

        Assert.True(stopping.Success, xs.StdErr);
        Assert.Equal(1, int.Parse(stopping.Groups[1].Value, CultureInfo.InvariantCulture)); // the write's: the transactions wrote nothing
    }

    private static ProcessResult Client(string socket, string testCase)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "xs-conformance");
        Assert.True(File.Exists(program), "xs-conformance was not built: libxen-dev missing? run `make deps`");
        // Through env(1): XENSTORED_PATH for this child only (test classes run in parallel).
        var r = HostProcess.Run("/usr/bin/env", ["XENSTORED_PATH=" + socket, program, testCase], TimeSpan.FromSeconds(60));
        Assert.False(r.TimedOut, r.ToString());
        return r;
    }

    [GeneratedRegex(@"stopping: \d+ requests, \d+ batches, (\d+) journal writes")]
    private static partial Regex StoppingLine();

    /// <summary>One server for the cases (each uses its own subtree).</summary>
    public sealed class Server : IDisposable
    {
        public XenstoredProcess Xenstored { get; } = new();

        public void Dispose() => Xenstored.Dispose();
    }
}
