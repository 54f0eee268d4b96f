using Disagg.Abi.Io;
using Disagg.Xenbus;

namespace Disagg.Xenstored.Tests;

/// <summary>shared/Xenbus's client (what netback, blkback and the toolstack use) against the real xenstored.</summary>
public sealed class XenstoreClientTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly XenstoredProcess _xs = new();

    public void Dispose() => _xs.Dispose();

    [Fact]
    public async Task Requests_from_many_tasks_in_flight_together_each_get_their_own_reply()
    {
        await using var xs = await XenstoreClient.ConnectAsync(_xs.SocketPath, None);
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => xs.WriteAsync(0, $"/t/n{i}", $"v{i}", None)));
        var values = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => xs.ReadAsync(0, $"/t/n{i}", None)));
        Assert.Equal(Enumerable.Range(0, 64).Select(i => $"v{i}"), values);
        Assert.Equal(64, (await xs.DirectoryAsync(0, "/t", None)).Count);
        Assert.Null(await xs.ReadAsync(0, "/t/missing", None));
        Assert.Empty(await xs.DirectoryAsync(0, "/t/missing", None));
    }

    [Fact]
    public async Task Watch_events_arrive_with_their_token_while_requests_are_answered()
    {
        await using var xs = await XenstoreClient.ConnectAsync(_xs.SocketPath, None);
        await xs.WatchAsync("/dev", "tok", None);
        var initial = await xs.WatchEvents.ReadAsync(None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(new XenstoreWatchEvent("/dev", "tok"), initial);
        await xs.WriteAsync(0, "/dev/vbd/1/state", XenbusStates.Format(XenbusState.InitWait), None);
        var ev = await xs.WatchEvents.ReadAsync(None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("tok", ev.Token);
        Assert.StartsWith("/dev/vbd", ev.Path, StringComparison.Ordinal);
        Assert.Equal(XenbusState.InitWait, XenbusStates.Parse(await xs.ReadAsync(0, "/dev/vbd/1/state", None)));
    }

    [Fact]
    public async Task Errors_are_typed_and_a_conflicting_commit_says_so()
    {
        await using var xs = await XenstoreClient.ConnectAsync(_xs.SocketPath, None);
        var e = await Assert.ThrowsAsync<XenstoreException>(() => xs.WriteAsync(0, "/bad path!", "x", None));
        Assert.Equal("EINVAL", e.Error);
        await xs.WriteAsync(0, "/c", "0", None);
        var tx = await xs.TransactionStartAsync(None);
        Assert.Equal("0", await xs.ReadAsync(tx, "/c", None));
        await xs.WriteAsync(0, "/c", "other", None);
        await xs.WriteAsync(tx, "/c", "1", None);
        Assert.False(await xs.TransactionEndAsync(tx, commit: true, None));
        Assert.Equal("other", await xs.ReadAsync(0, "/c", None));
    }

    [Fact]
    public async Task Xenstored_dying_fails_pending_work_and_completes_Closed()
    {
        await using var xs = await XenstoreClient.ConnectAsync(_xs.SocketPath, None);
        await xs.WriteAsync(0, "/k", "v", None);
        _xs.Kill();
        await xs.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<IOException>(() => xs.ReadAsync(0, "/k", None));
        _xs.Start();
        await using var again = await XenstoreClient.ConnectWithRetryAsync(_xs.SocketPath, TimeSpan.FromSeconds(10), None);
        Assert.Equal("v", await again.ReadAsync(0, "/k", None));
    }

    [Fact]
    public void Backend_paths_name_their_frontend_and_device()
    {
        Assert.Equal("/local/domain/3/device/vbd/51712", XenbusPaths.Frontend(3, "vbd", 51712));
        Assert.Equal("/local/domain/2/backend/vif/7/0", XenbusPaths.Backend(2, "vif", 7, 0));
        Assert.True(XenbusPaths.TryParseBackend("/local/domain/2/backend/vif/7/0/state", 2, "vif", out var fe, out var dev));
        Assert.Equal((7, 0), (fe, dev));
        Assert.False(XenbusPaths.TryParseBackend("/local/domain/2/backend/vif/7", 2, "vif", out _, out _));
        Assert.False(XenbusPaths.TryParseBackend("/local/domain/2/backend/vif/x/0", 2, "vif", out _, out _));
        Assert.False(XenbusPaths.TryParseBackend("/local/domain/3/backend/vif/7/0", 2, "vif", out _, out _));
        Assert.Equal(XenbusState.Unknown, XenbusStates.Parse("9"));
        Assert.Equal(XenbusState.Unknown, XenbusStates.Parse(null));
        Assert.Equal(XenbusState.Closed, XenbusStates.Parse("6"));
    }
}
